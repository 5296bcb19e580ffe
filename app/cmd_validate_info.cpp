// Placeholders replaced by the documents work (validate, info).
#include "app/commands.h"
namespace strata::app {
int cmdValidate(const Args&) { return usageError("validate is not built yet"); }
int cmdInfo(const Args&) { return usageError("info is not built yet"); }
}  // namespace strata::app

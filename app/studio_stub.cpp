// Without the UI library the studio is unavailable; the CLI still works.
#include <iostream>

#include "app/commands.h"

#ifndef HAVE_STRATA_UI
namespace strata::app {
int runStudio(int, char**) {
    std::cerr << "strata: this build has no studio (Qt 6 was not found); use the sub-commands, "
                 "see 'strata --help'.\n";
    return kUsage;
}
}  // namespace strata::app
#endif

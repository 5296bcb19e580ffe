// cross_entropy, mse, bce_with_logits.
#include "core/layers/registry.h"

namespace strata {

void registerLossLayers(LayerRegistry&) {}

}  // namespace strata

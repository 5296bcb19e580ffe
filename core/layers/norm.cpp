// batch_norm, layer_norm.
#include "core/layers/registry.h"

namespace strata {

void registerNormLayers(LayerRegistry&) {}

}  // namespace strata

// conv2d, max_pool2d, avg_pool2d, global_avg_pool2d.
#include "core/layers/registry.h"

namespace strata {

void registerConvLayers(LayerRegistry&) {}

}  // namespace strata

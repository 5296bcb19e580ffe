// Vulkan kernels of the norm family: batch_norm, layer_norm.
#include "gpu/layer_kernels.h"

namespace strata::gpu {

void registerNormGpuKernels() {}

}  // namespace strata::gpu

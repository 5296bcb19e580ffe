// Vulkan kernels of the activation family (core/layers/activation.cpp): elementwise kernels
// whose backward reads the saved input, like the CPU's.
#include "gpu/layer_kernels.h"
#include "gpu/ops/activation.h"

namespace strata::gpu {

namespace {

using ops::Activation;

struct Elementwise {
    Activation act;
    float param;
};

Elementwise elementwiseOf(const std::string& id, const Params& p) {
    if (id == "relu") return {Activation::Relu, 0.0f};
    if (id == "leaky_relu") return {Activation::LeakyRelu, float(getFloat(p, "negative_slope"))};
    if (id == "gelu") {
        return {getString(p, "approximate") == "tanh" ? Activation::GeluTanh : Activation::Gelu,
                0.0f};
    }
    if (id == "sigmoid") return {Activation::Sigmoid, 0.0f};
    return {Activation::Tanh, 0.0f};
}

void registerElementwise(const std::string& id) {
    registerGpuKernels(
        id, {[id](const GpuOpContext& c) -> Result<void> {
                 const auto e = elementwiseOf(id, c.params);
                 return ops::recordActivationFwd(c.rec, e.act, e.param, c.inputs[0].range,
                                                 c.outputs[0].range);
             },
             [id](const GpuOpContext& c) -> Result<void> {
                 if (!c.gradInputs[0].present()) return {};
                 const auto e = elementwiseOf(id, c.params);
                 return ops::recordActivationBwd(c.rec, e.act, e.param, c.inputs[0].range,
                                                 c.gradOutputs[0].range, c.gradInputs[0].range);
             }});
}

}  // namespace

void registerActivationGpuKernels() {
    for (const char* id : {"relu", "leaky_relu", "gelu", "sigmoid", "tanh"}) registerElementwise(id);
}

}  // namespace strata::gpu

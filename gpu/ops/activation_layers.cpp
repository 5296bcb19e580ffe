// Vulkan kernels of the activation family (core/layers/activation.cpp): elementwise kernels
// whose backward reads the saved input, and softmax, whose backward reads the saved output, like
// the CPU's.
#include "gpu/layer_kernels.h"
#include "gpu/ops/activation.h"
#include "gpu/ops/softmax.h"

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

// The input viewed as (outer, len, inner) with the softmax over len, as the CPU's softmaxSizes.
ops::SoftmaxDims softmaxDims(const GpuOpContext& c) {
    const Shape& s = c.inputs[0].shape;
    int64_t dim = getInt(c.params, "dim");
    if (dim < 0) dim += s.rank();
    ops::SoftmaxDims d;
    for (int i = 0; i < s.rank(); ++i) {
        if (i < dim) d.outer *= uint32_t(s[i]);
        else if (i == dim) d.len = uint32_t(s[i]);
        else d.inner *= uint32_t(s[i]);
    }
    return d;
}

Result<void> softmax_fwd(const GpuOpContext& c) {
    return ops::recordSoftmaxFwd(c.rec, softmaxDims(c), c.inputs[0].range, c.outputs[0].range);
}

Result<void> softmax_bwd(const GpuOpContext& c) {
    if (!c.gradInputs[0].present()) return {};
    return ops::recordSoftmaxBwd(c.rec, softmaxDims(c), c.outputs[0].range,
                                 c.gradOutputs[0].range, c.gradInputs[0].range);
}

}  // namespace

void registerActivationGpuKernels() {
    for (const char* id : {"relu", "leaky_relu", "gelu", "sigmoid", "tanh"}) registerElementwise(id);
    registerGpuKernels("softmax", {softmax_fwd, softmax_bwd});
}

}  // namespace strata::gpu

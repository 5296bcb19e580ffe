// Elementwise activations and softmax. Each backward uses the saved output or input as noted.
#include <cmath>

#include "core/layers/registry.h"

namespace strata {

namespace {

Result<LayerInfo> sameShapeInfer(const LayerContext& c) {
    if (c.inputs[0].type->dtype != DType::Float32) {
        return fail("expects float input but " + c.gives(0) + " of integers; add an embedding");
    }
    LayerInfo info;
    info.outputs.push_back({c.shape(0), DType::Float32});
    info.flops = c.shape(0).numel();
    return info;
}

void relu_fwd(const OpContext& c) {
    const TensorView& x = c.inputs[0];
    for (int64_t i = 0; i < x.numel(); ++i) c.outputs[0][i] = x[i] > 0 ? x[i] : 0.0f;
}

void relu_bwd(const OpContext& c) {
    if (!c.gradInputs[0].data) return;
    const TensorView& x = c.inputs[0];
    for (int64_t i = 0; i < x.numel(); ++i) {
        if (x[i] > 0) c.gradInputs[0][i] += c.gradOutputs[0][i];
    }
}

}  // namespace

void registerActivationLayers(LayerRegistry& r) {
    r.add({
        .id = "relu",
        .label = "ReLU",
        .category = "Activation",
        .doc = "max(0, x), elementwise.",
        .inputs = {{"in", "any shape"}},
        .outputs = {{"out", "same shape"}},
        .infer = sameShapeInfer,
        .forward = relu_fwd,
        .backward = relu_bwd,
    });
}

}  // namespace strata

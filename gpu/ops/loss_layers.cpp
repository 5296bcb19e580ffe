// Vulkan kernels of the loss family (core/layers/loss.cpp): cross_entropy as a fused
// log-softmax + NLL, mse and bce_with_logits. Each forward ends in a one-workgroup reduction to
// the scalar "loss"; each backward reads the scalar's gradient (gradOutputs[0]) on the device.
#include "gpu/layer_kernels.h"
#include "gpu/ops/loss.h"

namespace strata::gpu {

namespace {

// logits (R, C) with R = N or N*T; targets (R).
ops::CrossEntropyArgs ceArgs(const GpuOpContext& c) {
    const GpuTensor& x = c.inputs[0];
    const int64_t classes = x.shape[-1];
    return {.rows = uint32_t(x.numel() / classes),
            .classes = uint32_t(classes),
            .ignoreIndex = int32_t(getInt(c.params, "ignore_index")),
            .labelSmoothing = float(getFloat(c.params, "label_smoothing")),
            .logits = x.range,
            .targets = c.inputs[1].range};
}

Result<void> cross_entropy_fwd(const GpuOpContext& c) {
    const ops::CrossEntropyArgs a = ceArgs(c);
    auto partials = c.scratch(ops::crossEntropyPartials(a.rows), "cross_entropy row losses");
    if (!partials) return partials.error();
    return ops::recordCrossEntropyFwd(c.rec, a, *partials, c.outputs[0].range);
}

Result<void> cross_entropy_bwd(const GpuOpContext& c) {
    if (!c.gradInputs[0].present()) return {};
    auto scale = c.scratch(1, "cross_entropy gradient scale");
    if (!scale) return scale.error();
    return ops::recordCrossEntropyBwd(c.rec, ceArgs(c), c.gradOutputs[0].range, *scale,
                                      c.gradInputs[0].range);
}

GpuLayerKernels pairLoss(ops::PairLoss kind) {
    return {[kind](const GpuOpContext& c) -> Result<void> {
                const GpuTensor& x = c.inputs[0];  // (N, ...)
                auto partials = c.scratch(ops::pairLossPartials(c.device(), uint64_t(x.numel())),
                                          "loss partial sums");
                if (!partials) return partials.error();
                return ops::recordPairLossFwd(c.rec, kind, x.range, c.inputs[1].range, *partials,
                                              c.outputs[0].range);
            },
            [kind](const GpuOpContext& c) -> Result<void> {
                return ops::recordPairLossBwd(c.rec, kind, c.inputs[0].range, c.inputs[1].range,
                                              c.gradOutputs[0].range, c.gradInputs[0].range,
                                              c.gradInputs.size() > 1 ? c.gradInputs[1].range
                                                                      : BufferRange{});
            }};
}

}  // namespace

void registerLossGpuKernels() {
    registerGpuKernels("cross_entropy", {cross_entropy_fwd, cross_entropy_bwd});
    registerGpuKernels("mse", pairLoss(ops::PairLoss::Mse));
    registerGpuKernels("bce_with_logits", pairLoss(ops::PairLoss::BceWithLogits));
}

}  // namespace strata::gpu

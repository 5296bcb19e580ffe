// Vulkan kernels of the norm family (core/layers/norm.cpp): batch_norm. (layer_norm registers
// with the attention family, next to its CPU kernels' home.)
#include "gpu/layer_kernels.h"
#include "gpu/ops/batch_norm.h"

namespace strata::gpu {

namespace {

// x (N, C), (N, C, L) or (N, C, H, W) viewed as (N, C, inner).
ops::BatchNormDims bnDims(const Shape& x) {
    int64_t inner = 1;
    for (int i = 2; i < x.rank(); ++i) inner *= x[i];
    return {uint32_t(x[0]), uint32_t(x[1]), uint32_t(inner)};
}

Result<void> batch_norm_fwd(const GpuOpContext& c) {
    // weights: weight, bias, running_mean, running_var; aux: mean, invstd
    return ops::recordBatchNormFwd(
        c.rec, {.dims = bnDims(c.inputs[0].shape),
                .training = c.training,
                .eps = float(getFloat(c.params, "eps")),
                .momentum = float(getFloat(c.params, "momentum")),
                .x = c.inputs[0].range,
                .y = c.outputs[0].range,
                .gamma = c.weights[0].range,
                .beta = c.weights[1].range,
                .runningMean = c.weights[2].range,
                .runningVar = c.weights[3].range,
                .mean = c.aux[0].range,
                .invstd = c.aux[1].range});
}

Result<void> batch_norm_bwd(const GpuOpContext& c) {
    ops::BatchNormBwdArgs a{.dims = bnDims(c.inputs[0].shape),
                            .training = c.training,
                            .x = c.inputs[0].range,
                            .dy = c.gradOutputs[0].range,
                            .gamma = c.weights[0].range,
                            .mean = c.aux[0].range,
                            .invstd = c.aux[1].range,
                            .dx = c.gradInputs[0].range,
                            .dgamma = c.gradWeights[0].range,
                            .dbeta = c.gradWeights[1].range};
    if (ops::batchNormBwdSplits(c.device(), a)) {
        // A tensor larger than one binding carries its per-channel sums between dispatches.
        auto sums = c.scratch(2 * uint64_t(a.dims.channels), c.label("batch_norm sums"));
        if (!sums) return sums.error();
        a.sums = *sums;  // (C, 2)
    }
    return ops::recordBatchNormBwd(c.rec, a);
}

}  // namespace

void registerNormGpuKernels() {
    registerGpuKernels("batch_norm", {batch_norm_fwd, batch_norm_bwd});
}

}  // namespace strata::gpu

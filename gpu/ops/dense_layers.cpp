// Vulkan kernels of the dense family (core/layers/dense.cpp): linear through the GEMM with its
// bias epilogue (the bias gradient is a GEMM with a row of ones, so it accumulates like the
// rest); flatten and reshape as copies; dropout from the seed in device memory; add and concat
// as one dispatch for all their inputs.
#include "gpu/layer_kernels.h"
#include "gpu/ops/activation.h"
#include "gpu/ops/broadcast.h"
#include "gpu/ops/copy.h"
#include "gpu/ops/gemm.h"

namespace strata::gpu {

namespace {

// x (rows, in), w (out, in), b (out) → y (rows, out) = x wᵀ + b
Result<void> linear_fwd(const GpuOpContext& c) {
    const GpuTensor& x = c.inputs[0];   // (rows, in)
    const GpuTensor& y = c.outputs[0];  // (rows, out)
    const int64_t in = x.shape[-1], out = y.shape[-1], rows = x.numel() / in;
    ops::GemmArgs g{.transB = true, .M = uint32_t(rows), .N = uint32_t(out), .K = uint32_t(in),
                    .a = x.range, .b = c.weights[0].range, .c = y.range};
    if (c.weights.size() > 1) g.bias = c.weights[1].range;
    return ops::recordGemm(c.rec, g);
}

Result<void> linear_bwd(const GpuOpContext& c) {
    const GpuTensor& x = c.inputs[0];        // (rows, in)
    const GpuTensor& dy = c.gradOutputs[0];  // (rows, out)
    const int64_t in = x.shape[-1], out = dy.shape[-1], rows = x.numel() / in;
    if (c.gradInputs[0].present()) {  // dx (rows, in) += dy w
        ops::GemmArgs g{.M = uint32_t(rows), .N = uint32_t(in), .K = uint32_t(out), .beta = 1.0f,
                        .a = dy.range, .b = c.weights[0].range, .c = c.gradInputs[0].range};
        if (auto r = ops::recordGemm(c.rec, g); !r) return r;
    }
    if (c.gradWeights[0].present()) {  // dw (out, in) += dyᵀ x
        ops::GemmArgs g{.transA = true, .M = uint32_t(out), .N = uint32_t(in), .K = uint32_t(rows),
                        .beta = 1.0f, .a = dy.range, .b = x.range, .c = c.gradWeights[0].range};
        if (auto r = ops::recordGemm(c.rec, g); !r) return r;
    }
    if (c.gradWeights.size() > 1 && c.gradWeights[1].present()) {  // db (1, out) += 1ᵀ dy
        auto ones = c.scratch(uint64_t(rows), "a row of ones");
        if (!ones) return ones.error();
        if (auto r = c.rec.fill(*ones, 0x3f800000u, c.label("ones")); !r) return r;
        ops::GemmArgs g{.M = 1, .N = uint32_t(out), .K = uint32_t(rows), .beta = 1.0f,
                        .a = *ones, .b = dy.range, .c = c.gradWeights[1].range};
        if (auto r = ops::recordGemm(c.rec, g); !r) return r;
    }
    return {};
}

// ---- flatten, reshape: the same floats under a new shape ----

Result<void> copy_fwd(const GpuOpContext& c) {
    return ops::recordCopy(c.rec, c.inputs[0].range, c.outputs[0].range, c.label("forward"));
}

Result<void> copy_bwd(const GpuOpContext& c) {
    if (!c.gradInputs[0].present()) return {};
    return ops::recordAddInto(c.rec, c.gradOutputs[0].range, c.gradInputs[0].range,
                              c.label("backward"));
}

// ---- dropout: the mask is regenerated from the seed, never stored ----

// The CPU's rule: dropout acts only while training with p > 0; otherwise it is the identity.
bool dropoutActive(const GpuOpContext& c) { return c.training && getFloat(c.params, "p") > 0; }

Result<void> dropout_fwd(const GpuOpContext& c) {
    if (!dropoutActive(c)) return copy_fwd(c);
    return ops::recordDropoutFwd(c.rec, float(getFloat(c.params, "p")), c.seed,
                                 c.inputs[0].range, c.outputs[0].range);
}

Result<void> dropout_bwd(const GpuOpContext& c) {
    if (!c.gradInputs[0].present()) return {};
    if (!dropoutActive(c)) return copy_bwd(c);
    return ops::recordDropoutBwd(c.rec, float(getFloat(c.params, "p")), c.seed,
                                 c.gradOutputs[0].range, c.gradInputs[0].range);
}

// ---- add: one dispatch sums every input with broadcasting ----

Result<void> add_fwd(const GpuOpContext& c) {
    return ops::recordAddFwd(c.rec, c.inputs, c.outputs[0], c.label("forward"));
}

Result<void> add_bwd(const GpuOpContext& c) {
    return ops::recordAddBwd(c.rec, c.gradOutputs[0], c.gradInputs, c.label("backward"));
}

// ---- concat ----

int concatAxis(const GpuOpContext& c, const Shape& y) {
    const int64_t axis = getInt(c.params, "axis");
    return int(axis < 0 ? axis + y.rank() : axis);
}

Result<void> concat_fwd(const GpuOpContext& c) {
    const GpuTensor& y = c.outputs[0];  // (outer, sum of lens, inner)
    return ops::recordConcatFwd(c.rec, concatAxis(c, y.shape), c.inputs, y, c.label("forward"));
}

Result<void> concat_bwd(const GpuOpContext& c) {
    const GpuTensor& dy = c.gradOutputs[0];  // (outer, sum of lens, inner)
    std::vector<Shape> shapes;
    for (const auto& x : c.inputs) shapes.push_back(x.shape);
    return ops::recordConcatBwd(c.rec, concatAxis(c, dy.shape), dy, shapes, c.gradInputs,
                                c.label("backward"));
}

}  // namespace

void registerDenseGpuKernels() {
    registerGpuKernels("linear", {linear_fwd, linear_bwd});
    registerGpuKernels("flatten", {copy_fwd, copy_bwd});
    registerGpuKernels("reshape", {copy_fwd, copy_bwd});
    registerGpuKernels("dropout", {dropout_fwd, dropout_bwd});
    registerGpuKernels("add", {add_fwd, add_bwd});
    registerGpuKernels("concat", {concat_fwd, concat_bwd});
}

}  // namespace strata::gpu

// Vulkan kernels of the dense family (core/layers/dense.cpp): linear through the GEMM with its
// bias epilogue; the bias gradient is a GEMM with a row of ones, so it accumulates like the rest.
#include "gpu/layer_kernels.h"
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

}  // namespace

void registerDenseGpuKernels() {
    registerGpuKernels("linear", {linear_fwd, linear_bwd});
}

}  // namespace strata::gpu

#pragma once
// GEMM: C = act(alpha * op(A) * op(B) + beta * C + bias), row-major with packed leading
// dimensions like cpu::gemm, optionally batched with element strides. beta = 1 accumulates
// (weight gradients add into their arena, core/engine/op_context.h).
#include <cstdint>
#include <optional>

#include "gpu/ops/activation.h"
#include "gpu/recorder.h"

namespace strata::gpu::ops {

struct GemmArgs {
    bool transA = false;
    bool transB = false;
    uint32_t M = 0;
    uint32_t N = 0;
    uint32_t K = 0;
    uint32_t batch = 1;
    float alpha = 1.0f;
    float beta = 0.0f;
    BufferRange a;     // (batch, M, K) or (batch, K, M) when transA
    BufferRange b;     // (batch, K, N) or (batch, N, K) when transB
    BufferRange c;     // (batch, M, N)
    BufferRange bias;  // (N) added to every row; empty for none
    // The bias is indexed by the output row instead: (M) added to every column, or
    // (batch, M) with strideBias floats between batch entries (0: one bias for every entry).
    bool biasPerRow = false;
    uint64_t strideA = 0;  // floats between batch entries; 0 = packed (M*K, K*N, M*N)
    uint64_t strideB = 0;
    uint64_t strideC = 0;
    uint64_t strideBias = 0;
    Activation activation = Activation::None;
    float activationParam = 0.0f;
};

// variant: forced for tests and benchmarks; by default chosen from the device
// (Device::gemmVariant: texel-buffer register blocking on CPU devices, shared-memory tiles
// elsewhere). Operands larger than one binding are split into several dispatches along the
// batch, then along K when A is transposed (or one row) and B is not (or one column), with no
// activation (weight gradients over a large batch), then along M; otherwise a single batch
// entry's B (and transposed A) must fit one binding.
Result<void> recordGemm(Recorder& rec, const GemmArgs& args,
                        std::optional<GemmVariant> variant = std::nullopt);

}  // namespace strata::gpu::ops

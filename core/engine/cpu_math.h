#pragma once
// Small math shared by the CPU kernels of every layer family: a row-major GEMM over OpenBLAS and
// the counter-based random numbers that the Vulkan kernels reproduce bit for bit.
#include <cstdint>

namespace strata::cpu {

// C (M x N) = alpha * op(A) (M x K) * op(B) (K x N) + beta * C, all row-major.
// lda/ldb/ldc default to the packed leading dimension of each operand as stored.
void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          const float* B, float beta, float* C);

// Batched strided variant: `batch` independent products, operands `stride*` floats apart.
void gemmBatched(bool transA, bool transB, int64_t batch, int64_t M, int64_t N, int64_t K,
                 float alpha, const float* A, int64_t strideA, const float* B, int64_t strideB,
                 float beta, float* C, int64_t strideC);

// A uniform float in [0, 1) from (seed, index): PCG-style hash, the same formula as
// gpu/shaders/include/random.glsl, so dropout masks agree between backends.
uint32_t hash32(uint64_t seed, uint64_t index);
inline float uniform01(uint64_t seed, uint64_t index) {
    return static_cast<float>(hash32(seed, index) >> 8) * (1.0f / 16777216.0f);
}

}  // namespace strata::cpu

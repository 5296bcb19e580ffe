#include "core/engine/cpu_math.h"

#include <cblas.h>

namespace strata::cpu {

void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          const float* B, float beta, float* C) {
    if (M == 0 || N == 0) return;
    const int lda = static_cast<int>(transA ? M : K);
    const int ldb = static_cast<int>(transB ? K : N);
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                transB ? CblasTrans : CblasNoTrans, static_cast<int>(M), static_cast<int>(N),
                static_cast<int>(K), alpha, A, lda, B, ldb, beta, C, static_cast<int>(N));
}

void gemmBatched(bool transA, bool transB, int64_t batch, int64_t M, int64_t N, int64_t K,
                 float alpha, const float* A, int64_t strideA, const float* B, int64_t strideB,
                 float beta, float* C, int64_t strideC) {
    for (int64_t b = 0; b < batch; ++b) {
        gemm(transA, transB, M, N, K, alpha, A + b * strideA, B + b * strideB, beta,
             C + b * strideC);
    }
}

uint32_t hash32(uint64_t seed, uint64_t index) {
    // Two rounds of a PCG output permutation over a 32-bit mix of seed and index; uses only
    // 32-bit integer operations so GLSL can do the same without 64-bit types.
    uint32_t s = static_cast<uint32_t>(seed) ^ (static_cast<uint32_t>(seed >> 32) * 0x9E3779B9u);
    uint32_t v = static_cast<uint32_t>(index) * 747796405u + 2891336453u + s;
    for (int round = 0; round < 2; ++round) {
        uint32_t word = ((v >> ((v >> 28u) + 4u)) ^ v) * 277803737u;
        v = (word >> 22u) ^ word;
        v = v * 747796405u + 2891336453u + s;
    }
    return v;
}

}  // namespace strata::cpu

#pragma once
// Small math shared by the CPU kernels of every layer family: a row-major GEMM over OpenBLAS,
// the thread pool the kernels share, fast elementwise functions and the counter-based random
// numbers that the Vulkan kernels reproduce bit for bit.
//
// Threads: the CPU backend runs on `threads()` threads, the caller plus threads() - 1 pool
// workers. OpenBLAS itself is kept single-threaded and gemm() splits large products over the
// pool instead, so that one set of threads serves both the products and the loops around them
// (two sets would fight over the cores: OpenBLAS's idle workers spin on sched_yield).
#include <cmath>
#include <cstdint>
#include <type_traits>

namespace strata::cpu {

// C (M x N) = alpha * op(A) (M x K) * op(B) (K x N) + beta * C, all row-major and packed.
// Large products are cut into blocks of 16-64 columns (or rows) of C that the pool's threads
// claim one by one.
void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          const float* B, float beta, float* C);

// One product with explicit leading dimensions (row-major), on the calling thread: for kernels
// that already spread their products over the pool.
void gemmHere(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
              const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
              int64_t ldc);

// Batched strided variant: `batch` independent products, operands `stride*` floats apart;
// the products are spread over the pool.
void gemmBatched(bool transA, bool transB, int64_t batch, int64_t M, int64_t N, int64_t K,
                 float alpha, const float* A, int64_t strideA, const float* B, int64_t strideB,
                 float beta, float* C, int64_t strideC);

// The thread count of the CPU kernels (process-wide); threads <= 0 means one per core.
void setThreads(int threads);
int threads();

// Runs fn(begin, end) over disjoint ranges covering [0, count), on up to threads() threads, each
// range at least `grain` items (so small loops stay on the calling thread). Returns when every
// range is done. Inside another parallelFor it runs fn(0, count) on the calling thread.
using RangeFn = void (*)(void* context, int64_t begin, int64_t end);
void parallelForRaw(int64_t count, int64_t grain, RangeFn fn, void* context);

template <class F>
void parallelFor(int64_t count, int64_t grain, F&& fn) {
    using Fn = std::remove_reference_t<F>;
    parallelForRaw(
        count, grain,
        [](void* c, int64_t begin, int64_t end) { (*static_cast<Fn*>(c))(begin, end); },
        const_cast<void*>(static_cast<const void*>(&fn)));
}

// Like parallelFor, but cuts [0, count) into ranges of `chunk` items (the last may be shorter)
// that the threads claim one after another. On a shared machine a thread can lose its core in
// the middle of a range; with two halves the caller then waits for that whole half, with chunks
// it finishes the others' chunks itself. For loops whose ranges may run in any order on any
// thread and share no per-thread state. Small loops (one chunk) stay on the calling thread;
// chunks grow where count / chunk would exceed 65535.
void parallelChunksRaw(int64_t count, int64_t chunk, RangeFn fn, void* context);

template <class F>
void parallelChunks(int64_t count, int64_t chunk, F&& fn) {
    using Fn = std::remove_reference_t<F>;
    parallelChunksRaw(
        count, chunk,
        [](void* c, int64_t begin, int64_t end) { (*static_cast<Fn*>(c))(begin, end); },
        const_cast<void*>(static_cast<const void*>(&fn)));
}

// Index of the calling thread within the current parallelFor: 0 for the caller, 1.. for the
// workers; kernels use it to pick per-thread scratch.
int threadIndex();

// 1 / (1 + e^-v) and tanh(v) from one expf each, accurate to a few float ulps (absolute);
// several times faster than std::tanh.
inline float sigmoid(float v) { return 1.0f / (1.0f + std::exp(-v)); }
inline float fastTanh(float v) {
    // tanh(v) = 1 - 2 / (e^{2v} + 1); clamping keeps e^{2v} finite and tanh(+-9) rounds to +-1.
    const float a = std::fmin(std::fmax(v, -9.0f), 9.0f);
    return 1.0f - 2.0f / (std::exp(2.0f * a) + 1.0f);
}

// A uniform float in [0, 1) from (seed, index): PCG-style hash, the same formula as
// gpu/shaders/include/random.glsl, so dropout masks agree between backends.
uint32_t hash32(uint64_t seed, uint64_t index);
inline float uniform01(uint64_t seed, uint64_t index) {
    return static_cast<float>(hash32(seed, index) >> 8) * (1.0f / 16777216.0f);
}

}  // namespace strata::cpu

// The CPU backend's shared math: products split into blocks that the threads claim one by one
// must equal the same product on one thread (and a plain loop), for every transpose, for sizes
// that are not multiples of the 16/32/64 blocks, and for both beta = 0 and accumulation.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <random>
#include <vector>

#include "core/engine/cpu_math.h"

namespace strata::test {
namespace {

std::vector<float> randomFloats(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> v(n);
    for (float& x : v) x = u(rng);
    return v;
}

struct GemmCase {
    bool transA, transB;
    int64_t M, N, K;
    float alpha, beta;
};

// C = alpha * op(A) op(B) + beta * C in double, straight from the definition.
std::vector<float> reference(const GemmCase& g, const std::vector<float>& A,
                             const std::vector<float>& B, std::vector<float> C) {
    for (int64_t i = 0; i < g.M; ++i) {
        for (int64_t j = 0; j < g.N; ++j) {
            double acc = 0;
            for (int64_t k = 0; k < g.K; ++k) {
                const float a = g.transA ? A[size_t(k * g.M + i)] : A[size_t(i * g.K + k)];
                const float b = g.transB ? B[size_t(j * g.K + k)] : B[size_t(k * g.N + j)];
                acc += double(a) * b;
            }
            float& c = C[size_t(i * g.N + j)];
            c = static_cast<float>(g.alpha * acc + g.beta * double(c));
        }
    }
    return C;
}

std::vector<float> run(int threads, const GemmCase& g, const std::vector<float>& A,
                       const std::vector<float>& B, std::vector<float> C) {
    cpu::setThreads(threads);
    cpu::gemm(g.transA, g.transB, g.M, g.N, g.K, g.alpha, A.data(), B.data(), g.beta, C.data());
    return C;
}

TEST(CpuGemm, SplitProductsEqualTheOneThreadProductAndTheDefinition) {
    const std::vector<GemmCase> cases = {
        {false, true, 128, 256, 784, 1.0f, 1.0f},   // W1 fc1 forward (bias already in C)
        {true, false, 256, 784, 128, 1.0f, 1.0f},   // W1 fc1 weight gradient
        {false, false, 128, 256, 256, 1.0f, 1.0f},  // W1 fc2 input gradient
        {false, false, 131, 301, 67, 0.5f, 0.0f},   // columns, ragged last block
        {true, true, 133, 150, 70, 1.0f, 1.0f},     // 32-column blocks
        {false, true, 700, 40, 90, 1.0f, 0.0f},     // rows (few columns)
        {true, false, 300, 100, 50, -1.0f, 1.0f},   // rows, transposed A
    };
    uint32_t seed = 1;
    for (const GemmCase& g : cases) {
        SCOPED_TRACE(::testing::Message() << "M " << g.M << " N " << g.N << " K " << g.K
                                          << " transA " << g.transA << " transB " << g.transB);
        // Large enough to be split: the threads would otherwise not be exercised.
        ASSERT_GE(g.M * g.N * g.K, int64_t{1} << 20);
        const auto A = randomFloats(size_t(g.M * g.K), seed++);
        const auto B = randomFloats(size_t(g.K * g.N), seed++);
        const auto C0 = randomFloats(size_t(g.M * g.N), seed++);
        const auto one = run(1, g, A, B, C0);
        const auto two = run(2, g, A, B, C0);
        const auto want = reference(g, A, B, C0);
        for (size_t i = 0; i < want.size(); ++i) {
            ASSERT_NEAR(two[i], one[i], 1e-5f * (1.0f + std::abs(one[i]))) << "element " << i;
            ASSERT_NEAR(two[i], want[i], 1e-4f * (1.0f + std::abs(want[i]))) << "element " << i;
        }
    }
    cpu::setThreads(0);
}

TEST(CpuPool, ChunksCoverEveryIndexOnce) {
    cpu::setThreads(2);
    for (int64_t count : {int64_t{1}, int64_t{7}, int64_t{64}, int64_t{1000}, int64_t{65537}}) {
        for (int64_t chunk : {int64_t{1}, int64_t{3}, int64_t{64}, int64_t{5000}}) {
            SCOPED_TRACE(::testing::Message() << "count " << count << " chunk " << chunk);
            std::vector<std::atomic<int>> hits(static_cast<size_t>(count));
            std::atomic<int> ranges{0}, longest{0};
            cpu::parallelChunks(count, chunk, [&](int64_t b, int64_t e) {
                ranges.fetch_add(1);
                int len = static_cast<int>(e - b), seen = longest.load();
                while (len > seen && !longest.compare_exchange_weak(seen, len)) {
                }
                for (int64_t i = b; i < e; ++i) hits[size_t(i)].fetch_add(1);
            });
            for (int64_t i = 0; i < count; ++i) ASSERT_EQ(hits[size_t(i)].load(), 1) << i;
            if (count / chunk >= 0xFFFF) {
                EXPECT_LE(ranges.load(), 0xFFFF);
            }
            if (count > chunk && count / chunk < 0xFFFF) {
                // Cut into chunks, not into one range per thread.
                EXPECT_EQ(ranges.load(), (count + chunk - 1) / chunk);
                EXPECT_LE(longest.load(), chunk);
            }
        }
    }
    cpu::setThreads(0);
}

}  // namespace
}  // namespace strata::test

// The Vulkan GEMM against cpu::gemm (OpenBLAS) on shapes that are not multiples of any tile,
// in every transpose combination, both kernel variants, batched, with epilogues.
#include <tuple>

#include "core/engine/cpu_math.h"
#include "gpu/ops/gemm.h"
#include "gpu_fixture.h"

namespace strata::gpu::test {
namespace {

struct Shape3 {
    uint32_t M, N, K;
};

// 1x1x1, batch-1 style vectors, odd sizes, exact tile multiples, and one past them. The texel
// kernel fetches 4 floats at once from an operand whose contiguous dimension is a multiple of 4
// (K for A and for transposed B, M for transposed A, N for B) and one float otherwise, so the
// table mixes both for each operand, with multiples of 4 that are not multiples of the tile
// (8 x 8 per invocation, 64 x 64 per workgroup) and K not a multiple of 4.
const Shape3 kShapes[] = {{1, 1, 1},     {1, 7, 3},     {5, 1, 9},    {3, 5, 1},
                          {13, 17, 19},  {64, 64, 16},  {65, 63, 17}, {70, 129, 33},
                          {8, 200, 5},   {127, 9, 100}, {4, 4, 4},    {12, 36, 8},
                          {68, 132, 20}, {9, 36, 12},   {36, 9, 13},  {132, 260, 36}};

class GemmTest : public GpuTest,
                 public ::testing::WithParamInterface<std::tuple<GemmVariant, bool, bool>> {};

TEST_P(GemmTest, MatchesOpenBlasOnEveryShape) {
    const auto [variant, transA, transB] = GetParam();
    for (const Shape3& s : kShapes) {
        SCOPED_TRACE(testing::Message() << s.M << "x" << s.N << "x" << s.K);
        const auto a = randomFloats(size_t(s.M) * s.K, 1 + s.M);
        const auto b = randomFloats(size_t(s.K) * s.N, 2 + s.N);
        std::vector<float> want(size_t(s.M) * s.N);
        cpu::gemm(transA, transB, s.M, s.N, s.K, 1.0f, a.data(), b.data(), 0.0f, want.data());

        ops::GemmArgs g;
        g.transA = transA;
        g.transB = transB;
        g.M = s.M;
        g.N = s.N;
        g.K = s.K;
        g.a = upload(a);
        g.b = upload(b);
        // C starts as garbage: beta = 0 must not read it.
        g.c = upload(std::vector<float>(want.size(), NAN));
        auto rec = recorder();
        auto ok = ops::recordGemm(*rec, g, variant);
        ASSERT_TRUE(ok) << ok.message();
        ASSERT_TRUE(rec->run());
        EXPECT_LT(maxRelError(download(g.c), want), 1e-5f);
    }
}

INSTANTIATE_TEST_SUITE_P(
    VariantsAndTransposes, GemmTest,
    ::testing::Combine(::testing::Values(GemmVariant::Texel8x8, GemmVariant::Tiled),
                       ::testing::Bool(), ::testing::Bool()),
    [](const auto& info) {
        return std::string(std::get<0>(info.param) == GemmVariant::Texel8x8 ? "Texel" : "Tiled") +
               (std::get<1>(info.param) ? "T" : "N") + (std::get<2>(info.param) ? "T" : "N");
    });

class GemmEpilogueTest : public GpuTest, public ::testing::WithParamInterface<GemmVariant> {};

TEST_P(GemmEpilogueTest, BatchedStridedOperandsAtUnalignedOffsets) {
    // A (3, 6, 11) with a gap of 5 floats between batch entries, B shared by every batch entry
    // (stride 0 is not "packed" here, so use its own stride), C (3, 6, 10) packed. Operands start
    // at float 3 of their allocation, which is not on a binding alignment.
    const uint32_t batch = 3, M = 6, N = 10, K = 11;
    const uint64_t strideA = M * K + 5, strideB = K * N + 2;
    auto aFull = randomFloats(3 + batch * strideA, 7);
    auto bFull = randomFloats(3 + batch * strideB, 8);
    std::vector<float> want(batch * M * N);
    cpu::gemmBatched(false, true, batch, M, N, K, 0.5f, aFull.data() + 3, strideA,
                     bFull.data() + 3, strideB, 0.0f, want.data(), M * N);
    ops::GemmArgs g;
    g.transB = true;
    g.M = M;
    g.N = N;
    g.K = K;
    g.batch = batch;
    g.alpha = 0.5f;
    g.a = upload(aFull).floatsAt(3, batch * strideA);
    g.b = upload(bFull).floatsAt(3, batch * strideB);
    g.c = zeros(want.size());
    g.strideA = strideA;
    g.strideB = strideB;
    auto rec = recorder();
    ASSERT_TRUE(ops::recordGemm(*rec, g, GetParam()));
    ASSERT_TRUE(rec->run());
    EXPECT_LT(maxRelError(download(g.c), want), 1e-5f);
}

TEST_P(GemmEpilogueTest, BatchedStridesThatKeepOperandsOnTexelBoundaries) {
    // Strides and sizes that are multiples of 4 floats (the texel kernel's 4-float fetches), in
    // every transpose combination, with gaps between the batch entries.
    const uint32_t batch = 3, M = 12, N = 20, K = 8;
    for (const bool transA : {false, true}) {
        for (const bool transB : {false, true}) {
            SCOPED_TRACE(testing::Message() << "transA " << transA << " transB " << transB);
            const uint64_t strideA = M * K + 4, strideB = K * N + 8, strideC = M * N + 12;
            auto a = randomFloats(batch * strideA, 31), b = randomFloats(batch * strideB, 32);
            auto c = randomFloats(batch * strideC, 33);
            std::vector<float> want = c;
            cpu::gemmBatched(transA, transB, batch, M, N, K, 1.0f, a.data(), strideA, b.data(),
                             strideB, 1.0f, want.data(), strideC);
            ops::GemmArgs g;
            g.transA = transA;
            g.transB = transB;
            g.M = M;
            g.N = N;
            g.K = K;
            g.batch = batch;
            g.beta = 1.0f;
            g.a = upload(a);
            g.b = upload(b);
            g.c = upload(c);
            g.strideA = strideA;
            g.strideB = strideB;
            g.strideC = strideC;
            auto rec = recorder();
            ASSERT_TRUE(ops::recordGemm(*rec, g, GetParam()));
            ASSERT_TRUE(rec->run());
            EXPECT_LT(maxRelError(download(g.c), want), 1e-5f);
        }
    }
}

TEST_P(GemmEpilogueTest, OperandsAtEveryFloatOffsetOfATexel) {
    // 12x12x12 in every transpose combination with A, B and C starting 0..4 floats into their
    // allocation: only offset 0 and 4 allow 4-float fetches, the others take the one-float path.
    const uint32_t M = 12, N = 12, K = 12;
    for (uint32_t at = 0; at <= 4; ++at) {
        for (const bool transA : {false, true}) {
            for (const bool transB : {false, true}) {
                SCOPED_TRACE(testing::Message() << "offset " << at << " transA " << transA
                                                << " transB " << transB);
                auto a = randomFloats(at + M * K, 41 + at), b = randomFloats(at + K * N, 42);
                std::vector<float> want(M * N);
                cpu::gemm(transA, transB, M, N, K, 1.0f, a.data() + at, b.data() + at, 0.0f,
                          want.data());
                ops::GemmArgs g;
                g.transA = transA;
                g.transB = transB;
                g.M = M;
                g.N = N;
                g.K = K;
                g.a = upload(a).floatsAt(at, M * K);
                g.b = upload(b).floatsAt(at, K * N);
                const BufferRange cFull = zeros(at + M * N);
                g.c = cFull.floatsAt(at, M * N);
                auto rec = recorder();
                ASSERT_TRUE(ops::recordGemm(*rec, g, GetParam()));
                ASSERT_TRUE(rec->run());
                EXPECT_LT(maxRelError(download(g.c), want), 1e-5f);
            }
        }
    }
}

TEST_P(GemmEpilogueTest, RowBiasIsAConvolutionBias) {
    // conv2d as W (out=6, C*k*k=8) x columns (8, H*W=10) + bias[out] per output row, relu; for
    // two groups batched with strideBias = out channels per group, and once shared (stride 0).
    const uint32_t batch = 2, M = 6, N = 10, K = 8;
    for (const uint64_t strideBias : {uint64_t(M), uint64_t(0)}) {
        SCOPED_TRACE(testing::Message() << "strideBias " << strideBias);
        auto w = randomFloats(batch * M * K, 51), cols = randomFloats(batch * K * N, 52);
        auto bias = randomFloats(batch * M, 53);
        std::vector<float> want(batch * M * N);
        cpu::gemmBatched(false, false, batch, M, N, K, 1.0f, w.data(), M * K, cols.data(), K * N,
                         0.0f, want.data(), M * N);
        for (uint32_t e = 0; e < batch; ++e) {
            for (uint32_t r = 0; r < M; ++r) {
                for (uint32_t c = 0; c < N; ++c) {
                    float& v = want[(e * M + r) * N + c];
                    v = std::max(0.0f, v + bias[e * strideBias + r]);
                }
            }
        }
        ops::GemmArgs g;
        g.M = M;
        g.N = N;
        g.K = K;
        g.batch = batch;
        g.a = upload(w);
        g.b = upload(cols);
        g.c = upload(std::vector<float>(want.size(), NAN));
        g.bias = upload(bias);
        g.biasPerRow = true;
        g.strideBias = strideBias;
        g.activation = ops::Activation::Relu;
        auto rec = recorder();
        ASSERT_TRUE(ops::recordGemm(*rec, g, GetParam()));
        ASSERT_TRUE(rec->run());
        EXPECT_LT(maxRelError(download(g.c), want), 1e-5f);
    }
}

// Operands larger than one binding: with the device's limit lowered, the GEMM splits into
// dispatches over batch entries, or over rows of one entry, and still gets every value right.
TEST_P(GemmEpilogueTest, SplitsOperandsLargerThanOneBinding) {
    struct Case {
        bool transA, transB;
        uint32_t batch, M, N, K;
        uint64_t limitBytes;
        size_t dispatches;
    };
    const Case cases[] = {
        {false, false, 5, 10, 12, 8, 1024, 3},     // two batch entries per dispatch
        {false, true, 2, 200, 12, 8, 4096, 6},     // 80 + 80 + 40 rows of each entry
        {true, false, 2, 100, 12, 8, 4096, 4},     // transposed A: 80 + 20 rows
        {true, true, 3, 70, 17, 7, 4096, 6},       // odd sizes: 56 + 14 rows, one-float fetches
    };
    for (const Case& k : cases) {
        SCOPED_TRACE(testing::Message() << k.transA << k.transB << " batch " << k.batch << " "
                                        << k.M << "x" << k.N << "x" << k.K);
        const size_t sizeA = size_t(k.batch) * k.M * k.K, sizeB = size_t(k.batch) * k.K * k.N;
        auto a = randomFloats(sizeA, 61), b = randomFloats(sizeB, 62);
        auto bias = randomFloats(size_t(k.batch) * k.M, 63);
        auto c = randomFloats(size_t(k.batch) * k.M * k.N, 64);
        std::vector<float> want = c;
        cpu::gemmBatched(k.transA, k.transB, k.batch, k.M, k.N, k.K, 1.0f, a.data(),
                         k.M * k.K, b.data(), k.K * k.N, 1.0f, want.data(), k.M * k.N);
        for (uint32_t e = 0; e < k.batch; ++e) {
            for (uint32_t r = 0; r < k.M; ++r) {
                for (uint32_t col = 0; col < k.N; ++col) {
                    want[(size_t(e) * k.M + r) * k.N + col] += bias[e * k.M + r];
                }
            }
        }
        ops::GemmArgs g;
        g.transA = k.transA;
        g.transB = k.transB;
        g.M = k.M;
        g.N = k.N;
        g.K = k.K;
        g.batch = k.batch;
        g.beta = 1.0f;
        g.a = upload(a);
        g.b = upload(b);
        g.c = upload(c);
        g.bias = upload(bias);
        g.biasPerRow = true;
        g.strideBias = k.M;
        auto rec = recorder();
        dev().setMaxBindingBytesForTesting(k.limitBytes);
        auto ok = ops::recordGemm(*rec, g, GetParam());
        dev().setMaxBindingBytesForTesting(~0ull);
        ASSERT_TRUE(ok) << ok.message();
        EXPECT_EQ(rec->commandCount(), k.dispatches);
        ASSERT_TRUE(rec->run());
        EXPECT_LT(maxRelError(download(g.c), want), 1e-5f);
    }
}

TEST_P(GemmEpilogueTest, RefusesWhenOneBatchEntryOfBExceedsABinding) {
    ops::GemmArgs g;
    g.M = 4;
    g.N = g.K = 20;  // B holds 400 floats; the binding 256
    g.a = zeros(80);
    g.b = zeros(400);
    g.c = zeros(80);
    auto rec = recorder();
    dev().setMaxBindingBytesForTesting(1024);
    auto ok = ops::recordGemm(*rec, g, GetParam());
    dev().setMaxBindingBytesForTesting(~0ull);
    ASSERT_FALSE(ok);
    EXPECT_NE(ok.message().find("operand B"), std::string::npos) << ok.message();
}

TEST_P(GemmEpilogueTest, BiasAndActivationEpilogueIsALinearLayer) {
    // linear + gelu: y = gelu(x W^T + b), x (N=5, in=13), W (out=9, in=13), b (9).
    const uint32_t M = 5, N = 9, K = 13;
    auto x = randomFloats(M * K, 11), w = randomFloats(N * K, 12), bias = randomFloats(N, 13);
    std::vector<float> want(M * N);
    cpu::gemm(false, true, M, N, K, 1.0f, x.data(), w.data(), 0.0f, want.data());
    for (uint32_t r = 0; r < M; ++r) {
        for (uint32_t c = 0; c < N; ++c) {
            const double v = want[r * N + c] + bias[c];
            want[r * N + c] = float(0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))));
        }
    }
    ops::GemmArgs g;
    g.transB = true;
    g.M = M;
    g.N = N;
    g.K = K;
    g.a = upload(x);
    g.b = upload(w);
    g.bias = upload(bias);
    g.c = zeros(M * N);
    g.activation = ops::Activation::Gelu;
    auto rec = recorder();
    ASSERT_TRUE(ops::recordGemm(*rec, g, GetParam()));
    ASSERT_TRUE(rec->run());
    EXPECT_LT(maxRelError(download(g.c), want), 1e-5f);
}

TEST_P(GemmEpilogueTest, BetaOneAccumulatesWeightGradients) {
    // dW += dY^T X: (out=7, in=4) from dY (N=6, 7) and X (6, 4), into a gradient that already
    // holds a value from another consumer.
    const uint32_t M = 7, N = 4, K = 6;
    auto dy = randomFloats(K * M, 21), x = randomFloats(K * N, 22), dw = randomFloats(M * N, 23);
    std::vector<float> want = dw;
    cpu::gemm(true, false, M, N, K, 1.0f, dy.data(), x.data(), 1.0f, want.data());
    ops::GemmArgs g;
    g.transA = true;
    g.M = M;
    g.N = N;
    g.K = K;
    g.beta = 1.0f;
    g.a = upload(dy);
    g.b = upload(x);
    g.c = upload(dw);
    auto rec = recorder();
    ASSERT_TRUE(ops::recordGemm(*rec, g, GetParam()));
    ASSERT_TRUE(rec->run());
    EXPECT_LT(maxRelError(download(g.c), want), 1e-5f);
}

INSTANTIATE_TEST_SUITE_P(Variants, GemmEpilogueTest,
                         ::testing::Values(GemmVariant::Texel8x8, GemmVariant::Tiled),
                         [](const auto& info) {
                             return info.param == GemmVariant::Texel8x8 ? "Texel" : "Tiled";
                         });

TEST_F(GpuTest, GemmVariantFollowsTheDeviceType) {
    EXPECT_EQ(dev().gemmVariant(),
              dev().info().isCpu() ? GemmVariant::Texel8x8 : GemmVariant::Tiled);
}

TEST_F(GpuTest, GemmRefusesOperandsSmallerThanItsShape) {
    ops::GemmArgs g;
    g.M = g.N = g.K = 8;
    g.a = zeros(64);
    g.b = zeros(63);
    g.c = zeros(64);
    auto rec = recorder();
    auto ok = ops::recordGemm(*rec, g);
    ASSERT_FALSE(ok);
    EXPECT_NE(ok.message().find("smaller than its shape 8x8x8"), std::string::npos) << ok.message();
}

}  // namespace
}  // namespace strata::gpu::test

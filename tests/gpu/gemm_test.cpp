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

// 1x1x1, batch-1 style vectors, odd sizes, exact tile multiples, and one past them.
const Shape3 kShapes[] = {{1, 1, 1},   {1, 7, 3},   {5, 1, 9},   {3, 5, 1},   {13, 17, 19},
                          {64, 64, 16}, {65, 63, 17}, {70, 129, 33}, {8, 200, 5}, {127, 9, 100}};

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

// The global gradient norm and clipping against double-precision sums on the CPU, including
// arenas split across bindings and gradients that start off the binding alignment.
#include <cmath>

#include "gpu/ops/reduce.h"
#include "gpu_fixture.h"

namespace strata::gpu::test {
namespace {

double sumOfSquares(const std::vector<float>& v, size_t first, size_t n) {
    double s = 0;
    for (size_t i = first; i < first + n; ++i) s += double(v[i]) * v[i];
    return s;
}

struct NormRun {
    BufferRange grads, partials, out;
};

class ReduceTest : public GpuTest {
protected:
    NormRun setup(const std::vector<float>& values, size_t n) {
        NormRun r;
        r.grads = upload(values).floatsAt(3, n);
        r.partials = zeros(std::max<uint64_t>(1, ops::squaredNormPartials(dev(), r.grads)));
        r.out = zeros(1);
        return r;
    }
};

TEST_F(ReduceTest, SquaredNormMatchesDoubleSums) {
    for (size_t n : {size_t(1), size_t(1000), size_t(1 << 20) + 3}) {
        SCOPED_TRACE(testing::Message() << "n " << n);
        const auto values = randomFloats(n + 3, uint32_t(n), -2.0f, 2.0f);
        const NormRun r = setup(values, n);
        auto rec = recorder();
        ASSERT_TRUE(ops::recordSquaredNorm(*rec, r.grads, r.partials, r.out));
        ASSERT_TRUE(rec->run());
        const double want = sumOfSquares(values, 3, n);
        const double got = download(r.out)[0];
        EXPECT_LT(std::abs(got - want) / want, 1e-5) << got << " against " << want;
        // Replaying gives the same bits: the order of additions is fixed.
        ASSERT_TRUE(rec->run());
        EXPECT_EQ(download(r.out)[0], float(got));
    }
}

TEST_F(ReduceTest, SquaredNormOfAnArenaSplitAcrossBindings) {
    const size_t n = 50000;
    const auto values = randomFloats(n + 3, 17);
    dev().setMaxBindingBytesForTesting(4096);  // about 1000 floats per binding
    const NormRun r = setup(values, n);
    const uint64_t partials = ops::squaredNormPartials(dev(), r.grads);
    auto rec = recorder();
    auto ok = ops::recordSquaredNorm(*rec, r.grads, r.partials, r.out);
    dev().setMaxBindingBytesForTesting(~0ull);
    ASSERT_TRUE(ok) << ok.message();
    EXPECT_GT(partials, 49u) << "one partial sum per workgroup of every chunk";
    EXPECT_GT(rec->commandCount(), 50u);
    ASSERT_TRUE(rec->run());
    const double want = sumOfSquares(values, 3, n);
    EXPECT_LT(std::abs(download(r.out)[0] - want) / want, 1e-5);
}

TEST_F(ReduceTest, TooSmallScratchIsRefusedWithASentence) {
    const auto values = randomFloats(100003, 2);
    const NormRun r = setup(values, 100000);
    const uint64_t needed = ops::squaredNormPartials(dev(), r.grads);
    ASSERT_GT(needed, 1u);
    auto rec = recorder();
    auto refused = ops::recordSquaredNorm(*rec, r.grads, r.partials.floatsAt(0, needed - 1),
                                          r.out);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.message().find("partial sums"), std::string::npos) << refused.message();
}

TEST_F(ReduceTest, ClipScalesOnlyWhenTheNormExceedsTheLimit) {
    const size_t n = 3000;
    const auto values = randomFloats(n + 3, 5);
    const double norm = std::sqrt(sumOfSquares(values, 3, n));
    for (double clipTo : {norm / 4, norm * 2}) {
        for (bool split : {false, true}) {
            SCOPED_TRACE(testing::Message() << "clip " << clipTo << (split ? " split" : ""));
            if (split) dev().setMaxBindingBytesForTesting(2048);
            const NormRun r = setup(values, n);
            auto rec = recorder();
            auto ok = ops::recordSquaredNorm(*rec, r.grads, r.partials, r.out);
            if (ok) ok = ops::recordClipScale(*rec, r.grads, r.out, float(clipTo));
            dev().setMaxBindingBytesForTesting(~0ull);
            ASSERT_TRUE(ok) << ok.message();
            ASSERT_TRUE(rec->run());
            const double scale = norm > clipTo ? clipTo / (norm + 1e-6) : 1.0;
            std::vector<float> want(values.begin() + 3, values.end());
            for (auto& v : want) v = float(v * scale);
            EXPECT_LT(maxRelError(download(r.grads), want), 1e-5f);
            const auto clipped = download(r.grads);
            EXPECT_NEAR(std::sqrt(sumOfSquares(clipped, 0, n)), std::min(norm, clipTo),
                        1e-4 * norm);
        }
    }
}

}  // namespace
}  // namespace strata::gpu::test

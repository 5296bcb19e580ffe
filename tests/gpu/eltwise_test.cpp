// Activations, dropout and softmax against CPU formulas (PyTorch's, in double precision), on
// sizes that are not multiples of the workgroup, and at the largest binding the device allows.
#include <cmath>
#include <cstring>

#include "core/engine/cpu_math.h"
#include "gpu/ops/activation.h"
#include "gpu/ops/softmax.h"
#include "gpu_fixture.h"

namespace strata::gpu::test {
namespace {

using ops::Activation;

double cpuActivate(Activation a, double x, double slope) {
    switch (a) {
        case Activation::Relu: return x > 0 ? x : 0;
        case Activation::LeakyRelu: return x > 0 ? x : slope * x;
        case Activation::Gelu: return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
        case Activation::GeluTanh:
            return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
        case Activation::Sigmoid: return 1 / (1 + std::exp(-x));
        case Activation::Tanh: return std::tanh(x);
        case Activation::None: return x;
    }
    return x;
}

// Central difference of the double-precision formula: the kernel's derivative is checked
// against the forward it belongs to, not against a second hand-written derivative.
double cpuDerivative(Activation a, double x, double slope) {
    const double h = 1e-6;
    return (cpuActivate(a, x + h, slope) - cpuActivate(a, x - h, slope)) / (2 * h);
}

const Activation kActivations[] = {Activation::Relu,     Activation::LeakyRelu,
                                   Activation::Gelu,     Activation::GeluTanh,
                                   Activation::Sigmoid,  Activation::Tanh};
const size_t kSizes[] = {1, 7, 64, 65, 1000, 4099};

// The 64-bit seed as the backend stores it: words (lo, hi), in a buffer the kernels read.
std::vector<float> seedWords(uint64_t seed) {
    const uint32_t words[2] = {uint32_t(seed), uint32_t(seed >> 32)};
    std::vector<float> bits(2);
    std::memcpy(bits.data(), words, sizeof words);
    return bits;
}

TEST_F(GpuTest, ActivationsForwardAndBackwardMatchTheCpu) {
    const float slope = 0.01f;
    for (Activation act : kActivations) {
        for (size_t n : kSizes) {
            SCOPED_TRACE(testing::Message() << "activation " << uint32_t(act) << ", n " << n);
            // Wide range including large magnitudes (sigmoid/tanh saturation), kept away from
            // relu's kink where the finite difference is meaningless.
            auto x = randomFloats(n, uint32_t(n) + 3, -6.0f, 6.0f);
            for (auto& v : x) {
                if (std::abs(v) < 1e-3f) v = 0.5f;
            }
            const auto dy = randomFloats(n, uint32_t(n) + 4);
            const auto dxStart = randomFloats(n, uint32_t(n) + 5);
            std::vector<float> wantY(n), wantDx(n);
            for (size_t i = 0; i < n; ++i) {
                wantY[i] = float(cpuActivate(act, x[i], slope));
                wantDx[i] = float(dxStart[i] + dy[i] * cpuDerivative(act, x[i], slope));
            }
            const BufferRange bx = upload(x), bdy = upload(dy), bdx = upload(dxStart);
            const BufferRange by = zeros(n);
            auto rec = recorder();
            ASSERT_TRUE(ops::recordActivationFwd(*rec, act, slope, bx, by));
            ASSERT_TRUE(ops::recordActivationBwd(*rec, act, slope, bx, bdy, bdx));
            ASSERT_TRUE(rec->run());
            EXPECT_LT(maxRelError(download(by), wantY), 2e-6f);
            EXPECT_LT(maxRelError(download(bdx), wantDx), 2e-5f);
        }
    }
}

TEST_F(GpuTest, DropoutMaskIsCpuHash32BitForBit) {
    const float p = 0.3f;
    const uint64_t seed = 0x123456789abcdefull;
    for (size_t n : kSizes) {
        const auto x = randomFloats(n, 9);
        const auto dy = randomFloats(n, 10);
        std::vector<float> wantY(n), wantDx(n, 0.0f);
        size_t kept = 0;
        for (size_t i = 0; i < n; ++i) {
            const bool keep = cpu::uniform01(seed, i) >= p;
            kept += keep;
            wantY[i] = keep ? x[i] / (1 - p) : 0.0f;
            wantDx[i] = keep ? dy[i] / (1 - p) : 0.0f;
        }
        const BufferRange bx = upload(x), bdy = upload(dy), by = zeros(n), bdx = zeros(n);
        const BufferRange bseed = upload(seedWords(seed));
        auto rec = recorder();
        ASSERT_TRUE(ops::recordDropoutFwd(*rec, p, bseed, bx, by));
        ASSERT_TRUE(ops::recordDropoutBwd(*rec, p, bseed, bdy, bdx));
        ASSERT_TRUE(rec->run());
        const auto y = download(by), dx = download(bdx);
        for (size_t i = 0; i < n; ++i) {
            ASSERT_EQ(y[i] == 0.0f, wantY[i] == 0.0f) << "mask differs at element " << i;
        }
        EXPECT_LT(maxRelError(y, wantY), 1e-6f);
        EXPECT_LT(maxRelError(dx, wantDx), 1e-6f);
        if (n == 4099) {
            EXPECT_NEAR(double(kept) / n, 1 - p, 0.03);
        }
    }
}

TEST_F(GpuTest, DropoutReadsANewSeedOnEveryReplayOfOneRecording) {
    const float p = 0.5f;
    const size_t n = 333;
    const auto x = randomFloats(n, 12);
    const BufferRange bx = upload(x), by = zeros(n), bseed = upload(seedWords(1));
    auto rec = recorder();
    ASSERT_TRUE(ops::recordDropoutFwd(*rec, p, bseed, bx, by));
    for (uint64_t seed : {1ull, 0xfeedface00000001ull, 42ull << 32}) {
        const auto words = seedWords(seed);
        ASSERT_TRUE(gpuContext().staging->upload(bseed, words.data(), 8));
        ASSERT_TRUE(rec->run());
        const auto y = download(by);
        for (size_t i = 0; i < n; ++i) {
            const float want = cpu::uniform01(seed, i) >= p ? x[i] / (1 - p) : 0.0f;
            ASSERT_EQ(y[i] == 0.0f, want == 0.0f) << "seed " << seed << ", element " << i;
        }
    }
}

TEST_F(GpuTest, SoftmaxRowsForwardAndBackwardMatchTheCpu) {
    const std::pair<uint32_t, uint32_t> shapes[] = {{1, 1}, {1, 7}, {5, 1}, {3, 64},
                                                    {7, 65}, {100, 10}, {2, 1000}};
    for (auto [rows, cols] : shapes) {
        SCOPED_TRACE(testing::Message() << rows << "x" << cols);
        const size_t n = size_t(rows) * cols;
        auto x = randomFloats(n, rows + cols, -8.0f, 8.0f);
        x[0] = 80.0f;  // exp would overflow without the max shift
        const auto dy = randomFloats(n, rows * cols + 1);
        const auto dxStart = randomFloats(n, 77);
        std::vector<float> wantY(n), wantDx(n);
        for (uint32_t r = 0; r < rows; ++r) {
            const float* xr = &x[size_t(r) * cols];
            double m = xr[0], s = 0, dot = 0;
            for (uint32_t c = 0; c < cols; ++c) m = std::max<double>(m, xr[c]);
            for (uint32_t c = 0; c < cols; ++c) s += std::exp(xr[c] - m);
            for (uint32_t c = 0; c < cols; ++c) {
                wantY[size_t(r) * cols + c] = float(std::exp(xr[c] - m) / s);
                dot += double(dy[size_t(r) * cols + c]) * wantY[size_t(r) * cols + c];
            }
            for (uint32_t c = 0; c < cols; ++c) {
                const size_t i = size_t(r) * cols + c;
                wantDx[i] = float(dxStart[i] + wantY[i] * (dy[i] - dot));
            }
        }
        const BufferRange bx = upload(x), by = zeros(n), bdy = upload(dy), bdx = upload(dxStart);
        auto rec = recorder();
        ASSERT_TRUE(ops::recordSoftmaxFwd(*rec, rows, cols, bx, by));
        ASSERT_TRUE(ops::recordSoftmaxBwd(*rec, rows, cols, by, bdy, bdx));
        ASSERT_TRUE(rec->run());
        EXPECT_LT(maxRelError(download(by), wantY), 1e-6f);
        EXPECT_LT(maxRelError(download(bdx), wantDx), 1e-5f);
    }
}

TEST_F(GpuTest, ReluAtTheLargestBindingTheDeviceAllows) {
    // One tensor exactly as large as one descriptor may bind (128 MiB on lavapipe). Skipped
    // where that is more than 256 MiB: the split test below covers larger devices cheaply.
    const uint64_t bytes = dev().maxBindingBytes();
    if (bytes > (256ull << 20)) GTEST_SKIP() << "binding limit " << bytes << " bytes is too big";
    const uint64_t n = bytes / 4;
    std::vector<float> x(n);
    for (uint64_t i = 0; i < n; ++i) x[i] = (i % 7 == 0 ? -1.0f : 1.0f) * float(i % 1000);
    MemoryArena& a = arena(2 * bytes + 4096);
    const BufferRange bx = a.allocate(bytes, "x").value();
    const BufferRange by = a.allocate(bytes, "y").value();
    ASSERT_TRUE(gpuContext().staging->upload(bx, x.data(), bytes));
    auto rec = recorder();
    ASSERT_TRUE(ops::recordActivationFwd(*rec, Activation::Relu, 0, bx, by));
    EXPECT_EQ(rec->commandCount(), 1u) << "a tensor at the limit still fits one binding";
    ASSERT_TRUE(rec->run());
    const auto y = download(by);
    for (uint64_t i : {uint64_t(0), uint64_t(7), uint64_t(8), n / 2, n - 7, n - 2, n - 1}) {
        EXPECT_EQ(y[i], std::max(0.0f, x[i])) << "element " << i;
    }
}

TEST_F(GpuTest, TensorsLargerThanOneBindingAreSplitAcrossDispatches) {
    dev().setMaxBindingBytesForTesting(4096);  // 1024 floats per binding at most
    const size_t n = 5000;
    const auto x = randomFloats(n, 31), dy = randomFloats(n, 32);
    std::vector<float> wantY(n), wantDx(n, 0.0f), wantDrop(n);
    for (size_t i = 0; i < n; ++i) {
        wantY[i] = std::tanh(x[i]);
        wantDx[i] = dy[i] * (1 - wantY[i] * wantY[i]);
        wantDrop[i] = cpu::uniform01(5, i) >= 0.5f ? 2 * x[i] : 0.0f;
    }
    const BufferRange bx = upload(x), bdy = upload(dy), by = zeros(n), bdx = zeros(n);
    const BufferRange bdrop = zeros(n), bseed = upload(seedWords(5));
    auto rec = recorder();
    ASSERT_TRUE(ops::recordActivationFwd(*rec, Activation::Tanh, 0, bx, by));
    ASSERT_TRUE(ops::recordActivationBwd(*rec, Activation::Tanh, 0, bx, bdy, bdx));
    ASSERT_TRUE(ops::recordDropoutFwd(*rec, 0.5f, bseed, bx, bdrop));
    dev().setMaxBindingBytesForTesting(~0ull);
    EXPECT_EQ(rec->commandCount(), 3u * 5u) << "5000 floats in chunks under 1024";
    ASSERT_TRUE(rec->run());
    EXPECT_LT(maxRelError(download(by), wantY), 2e-6f);
    EXPECT_LT(maxRelError(download(bdx), wantDx), 2e-5f);
    EXPECT_LT(maxRelError(download(bdrop), wantDrop), 1e-6f) << "chunks continue the RNG index";
}

}  // namespace
}  // namespace strata::gpu::test

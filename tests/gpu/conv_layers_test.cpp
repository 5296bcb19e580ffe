// Conv-family kernels against the CPU kernels: every parameter that changes an index (stride,
// padding, dilation, groups, kernel size), odd sizes that fit no tile, batch 1 (conv2d's
// single-sample path) and batch 3 (one chunk of several samples), plus a forced split into chunks.
#include <cmath>
#include <limits>

#include "gpu/layer_kernels.h"
#include "layer_check.h"

namespace strata::gpu::test {
namespace {

struct ConvCase {
    Shape in;  // (1, C, H, W)
    int64_t out, kernel, stride, padding, dilation, groups;
    bool bias;
    int64_t batch;
};

LayerCase convLayer(const ConvCase& k) {
    return {.type = "conv2d",
            .params = {{"out_channels", k.out},
                       {"kernel_size", k.kernel},
                       {"stride", k.stride},
                       {"padding", k.padding},
                       {"dilation", k.dilation},
                       {"groups", k.groups},
                       {"bias", k.bias}},
            .inputs = {{k.in, DType::Float32}},
            .batch = k.batch};
}

TEST_F(LayerKernelTest, Conv2dMatchesCpu) {
    for (const ConvCase& k : std::vector<ConvCase>{
             // in              out  k  s  p  d  g  bias   batch
             {Shape({1, 3, 7, 9}), 5, 3, 1, 0, 1, 1, true, 1},
             {Shape({1, 3, 7, 9}), 5, 3, 1, 1, 1, 1, false, 1},  // straight into the output
             {Shape({1, 3, 7, 9}), 5, 3, 2, 1, 1, 1, true, 3},
             {Shape({1, 3, 7, 9}), 5, 3, 1, 2, 2, 1, false, 3},
             {Shape({1, 2, 11, 10}), 4, 3, 3, 1, 2, 2, true, 2},
             {Shape({1, 4, 7, 9}), 6, 3, 1, 1, 1, 2, true, 3},
             {Shape({1, 4, 8, 7}), 4, 3, 2, 1, 1, 4, true, 3},    // depthwise
             {Shape({1, 3, 7, 9}), 6, 3, 1, 1, 1, 3, false, 1},   // depthwise, multiplier 2
             {Shape({1, 3, 7, 9}), 5, 1, 1, 0, 1, 1, true, 3},
             {Shape({1, 3, 9, 7}), 5, 5, 2, 2, 1, 1, false, 1},
             {Shape({1, 3, 9, 7}), 5, 5, 1, 0, 1, 1, true, 3},
         }) {
        EXPECT_GT(expectMatchesCpu(convLayer(k)), 0u);
    }
}

// A binding limit of a few KiB splits the batch into chunks of two samples and a last one of
// one, as a large batch is split on any device: per sample, the first case's columns are 1701
// floats and the second's 720.
TEST_F(LayerKernelTest, Conv2dMatchesCpuInChunks) {
    struct Limit {
        Device& d;
        ~Limit() { d.setMaxBindingBytesForTesting(std::numeric_limits<uint64_t>::max()); }
    } restore{dev()};
    dev().setMaxBindingBytesForTesting(16 << 10);
    EXPECT_GT(expectMatchesCpu(convLayer({Shape({1, 3, 7, 9}), 5, 3, 1, 1, 1, 1, true, 5})), 0u);
    dev().setMaxBindingBytesForTesting(8 << 10);
    EXPECT_GT(expectMatchesCpu(convLayer({Shape({1, 4, 7, 9}), 6, 3, 2, 1, 1, 2, false, 5})), 0u);
}

// The chunk size comes from a scratch budget (1 MiB here: the layer's output is small): with
// 36 column rows and 1024 positions a sample's scratch is about 156 KiB, so a batch of 13 runs
// as chunks of 6, 6 and 1 (and on the CPU, whose blocks hold 256 KiB of columns, one sample at a
// time) and must still give the CPU's results.
TEST_F(LayerKernelTest, Conv2dChunksByItsScratchBudgetAndMatchesCpu) {
    const ConvCase big{Shape({1, 4, 34, 34}), 2, 3, 1, 0, 1, 1, true, 13};
    EXPECT_GT(expectMatchesCpu(convLayer(big)), 0u);

    // Its forward asks for one chunk's scratch, not the whole batch's (13 x 156 KiB).
    MemoryArena& memory = arena();
    const Shape in({13, 4, 34, 34}), out({13, 2, 32, 32});
    const Params params = {{"out_channels", int64_t(2)}, {"kernel_size", int64_t(3)},
                           {"stride", int64_t(1)},       {"padding", int64_t(0)},
                           {"dilation", int64_t(1)},     {"groups", int64_t(1)},
                           {"bias", true}};
    GpuTensor x{upload(randomFloats(uint64_t(in.numel()), 3)), in};
    GpuTensor w{upload(randomFloats(2 * 4 * 9, 4)), Shape({2, 4, 3, 3})};
    GpuTensor b{upload(randomFloats(2, 5)), Shape({2})};
    GpuTensor y{zeros(uint64_t(out.numel())), out};
    uint64_t asked = 0;
    auto rec = recorder();
    ASSERT_TRUE(rec);
    GpuOpContext f{.rec = *rec, .params = params, .name = "conv"};
    f.inputs = {x};
    f.outputs = {y};
    f.weights = {w, b};
    f.scratch = [&](uint64_t floats, const std::string&) -> Result<BufferRange> {
        asked += floats;
        return memory.allocateFloats(std::max<uint64_t>(floats, 1), "scratch");
    };
    ASSERT_TRUE(findGpuKernels("conv2d")->forward(f).ok());
    EXPECT_GT(asked, 0u);
    EXPECT_LE(asked * 4, uint64_t(1) << 20);
    EXPECT_LT(asked, 13u * (36 + 2 + 1) * 1024);
}

struct PoolCase {
    Shape in;  // (1, C, H, W)
    int64_t kernel, stride, padding, batch;
};

class PoolTest : public LayerKernelTest {
protected:
    void expectPool(const std::string& type, const PoolCase& k) {
        EXPECT_GT(expectMatchesCpu({.type = type,
                          .params = {{"kernel_size", k.kernel},
                                     {"stride", k.stride},
                                     {"padding", k.padding}},
                          .inputs = {{k.in, DType::Float32}},
                          .batch = k.batch}), 0u);
    }
    const std::vector<PoolCase> m_cases = {
        // in                k  s  p  batch
        {Shape({1, 3, 7, 9}), 2, 0, 0, 3},  // stride = kernel, odd sizes drop the last row
        {Shape({1, 3, 7, 9}), 3, 2, 1, 3},  // overlapping windows with padding
        {Shape({1, 3, 7, 9}), 3, 1, 1, 1},
        {Shape({1, 2, 9, 7}), 2, 3, 1, 3},  // stride > kernel: pixels no window reads
        {Shape({1, 2, 9, 11}), 5, 2, 2, 1},
        {Shape({1, 5, 4, 6}), 1, 1, 0, 2},
    };
};

TEST_F(PoolTest, MaxPool2dMatchesCpu) {
    for (const auto& k : m_cases) expectPool("max_pool2d", k);
}

TEST_F(PoolTest, AvgPool2dMatchesCpu) {
    for (const auto& k : m_cases) expectPool("avg_pool2d", k);
}

TEST_F(LayerKernelTest, GlobalAvgPool2dMatchesCpu) {
    for (const auto& [shape, batch] : std::vector<std::pair<Shape, int64_t>>{
             {Shape({1, 3, 7, 9}), 1}, {Shape({1, 5, 1, 1}), 3}, {Shape({1, 4, 13, 11}), 3}}) {
        EXPECT_GT(expectMatchesCpu({.type = "global_avg_pool2d",
                          .inputs = {{shape, DType::Float32}},
                          .batch = batch}), 0u);
    }
}

// Random inputs never tie; on a plane of equal values the first pixel of each window must win
// (as on the CPU and in PyTorch), so its gradient is the sum over the windows it starts, and a
// NaN must reach every window that contains it.
TEST_F(LayerKernelTest, MaxPool2dFirstMaximumWinsTiesAndNaNPropagates) {
    arena();
    // (1, 1, 4, 4): all 1, but a NaN at (3, 3)
    std::vector<float> plane(16, 1.0f);
    plane[15] = std::numeric_limits<float>::quiet_NaN();
    const Params params = {{"kernel_size", int64_t(2)}, {"stride", int64_t(1)},
                           {"padding", int64_t(0)}};
    const GpuLayerKernels* kernels = findGpuKernels("max_pool2d");
    ASSERT_NE(kernels, nullptr);
    const Shape in({1, 1, 4, 4}), out({1, 1, 3, 3});
    GpuTensor x{upload(plane), in}, y{zeros(9), out}, arg{zeros(9), out};
    GpuTensor dy{upload(std::vector<float>(9, 1.0f)), out}, dx{zeros(16), in};

    auto fwd = recorder();
    ASSERT_TRUE(fwd);
    GpuOpContext f{.rec = *fwd, .params = params, .name = "pool"};
    f.inputs = {x};
    f.outputs = {y};
    f.aux = {arg};
    ASSERT_TRUE(kernels->forward(f).ok());
    ASSERT_TRUE(fwd->run().ok());
    const std::vector<float> values = download(y.range), where = download(arg.range);
    for (int i = 0; i < 9; ++i) {
        const int oy = i / 3, ox = i % 3;
        if (i == 8) {
            EXPECT_TRUE(std::isnan(values[i])) << "the window over the NaN gives " << values[i];
            EXPECT_EQ(where[i], 15.0f);
        } else {
            EXPECT_EQ(values[i], 1.0f) << "window " << i;
            EXPECT_EQ(where[i], float(oy * 4 + ox)) << "window " << i << " picks a later tie";
        }
    }

    auto bwd = recorder();
    ASSERT_TRUE(bwd);
    GpuOpContext b{.rec = *bwd, .params = params, .name = "pool"};
    b.inputs = {x};
    b.outputs = {y};
    b.aux = {arg};
    b.gradOutputs = {dy};
    b.gradInputs = {dx};
    ASSERT_TRUE(kernels->backward(b).ok());
    ASSERT_TRUE(bwd->run().ok());
    const std::vector<float> grad = download(dx.range);
    for (int i = 0; i < 16; ++i) {
        const int iy = i / 4, ix = i % 4;
        // Pixel 10 starts the NaN window, which routes its gradient to the NaN instead.
        const float want = (iy < 3 && ix < 3 && i != 10) || i == 15 ? 1.0f : 0.0f;
        EXPECT_EQ(grad[i], want) << "pixel " << i;
    }
}

}  // namespace
}  // namespace strata::gpu::test

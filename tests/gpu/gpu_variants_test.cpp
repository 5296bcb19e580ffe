// The test hook that lets lavapipe run the kernel variants meant for GPUs (without it the
// shared-memory and workgroup-per-row paths would never run in CI), and cases sized to reach
// what differs between the variants: more workgroups than the 64 a CPU device gets, several
// workgroups along a line, ties that meet in a workgroup's reduction tree. The `gpu_variants`
// CTest entry runs them, with all of test_gpu, as a discrete GPU would.
#include <algorithm>
#include <cmath>

#include "gpu/ops/metrics.h"
#include "gpu/vulkan_backend.h"
#include "layer_check.h"

namespace strata::gpu::test {
namespace {

TEST_F(GpuTest, PretendingADiscreteGpuSwitchesTheVariantsAndKeepsTheLimits) {
    Device& d = dev();
    const DeviceInfo before = d.info();
    const bool wasPretending = pretendingDiscreteGpu();
    d.pretendDiscreteGpuForTesting(true);
    EXPECT_FALSE(d.info().isCpu());
    EXPECT_EQ(d.info().type, VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU);
    EXPECT_EQ(d.gemmVariant(), GemmVariant::Tiled);
    EXPECT_EQ(d.info().maxWorkGroupCount, before.maxWorkGroupCount);
    EXPECT_EQ(d.info().maxSharedMemoryBytes, before.maxSharedMemoryBytes);
    EXPECT_EQ(d.info().maxStorageBufferRange, before.maxStorageBufferRange);
    d.pretendDiscreteGpuForTesting(false);
    // Off gives back the type the driver reports.
    EXPECT_EQ(d.info().type, gpuContext().instance->devices()[size_t(d.info().index)].type);
    d.pretendDiscreteGpuForTesting(wasPretending);
    EXPECT_EQ(d.info().isCpu(), before.isCpu());
}

TEST_F(GpuTest, TheVariantModeReachesTheBackendsTheTestsOpen) {
    auto b = VulkanBackend::create(gpuContext().instance, dev().info().index);
    ASSERT_TRUE(b.ok()) << b.message();
    EXPECT_EQ((*b)->device().info().isCpu(), dev().info().isCpu());
    if (pretendingDiscreteGpu()) {
        EXPECT_FALSE(dev().info().isCpu());
    }
}

// 40 000 values: 79 partial sums on a GPU (one per 512 values), 64 on a CPU device.
TEST_F(LayerKernelTest, PairLossesWithMorePartialSumsThanACpuDeviceUses) {
    for (const char* type : {"mse", "bce_with_logits"}) {
        const Shape s({1, 40000});
        EXPECT_GT(expectMatchesCpu({.type = type,
                                    .inputs = {{s, DType::Float32}, {s, DType::Float32}},
                                    .batch = 1}),
                  0u);
    }
}

// Output planes of 156 and 143 positions: three groups of 64 along each line on a GPU, and
// backward's col2im walks 13x12 pixels per channel line.
TEST_F(LayerKernelTest, Conv2dWithLinesLongerThanAWorkgroup) {
    for (const auto& [in, padding, stride] :
         {std::tuple{Shape({1, 3, 12, 13}), int64_t{1}, int64_t{1}},
          std::tuple{Shape({1, 2, 25, 23}), int64_t{1}, int64_t{2}}}) {
        EXPECT_GT(expectMatchesCpu({.type = "conv2d",
                                    .params = {{"out_channels", int64_t{5}},
                                               {"kernel_size", int64_t{3}},
                                               {"stride", stride},
                                               {"padding", padding}},
                                    .inputs = {{in, DType::Float32}},
                                    .batch = 2}),
                  0u);
    }
}

// 70 rows of 130: softmax and cross-entropy rows span three strides of a 64-wide workgroup.
TEST_F(LayerKernelTest, RowKernelsWithRowsWiderThanTwoWorkgroupStrides) {
    EXPECT_GT(expectMatchesCpu({.type = "softmax",
                                .inputs = {{Shape({1, 130}), DType::Float32}},
                                .batch = 70}),
              0u);
    EXPECT_GT(expectMatchesCpu({.type = "cross_entropy",
                                .params = {{"label_smoothing", 0.1}},
                                .inputs = {{Shape({1, 130}), DType::Float32},
                                           {Shape({1}), DType::Int32}},
                                .batch = 70,
                                .intRange = 130}),
              0u);
}

// More rows than a GPU's workgroup count allows along x (65 535 on most): the workgroup per row
// walks on to row 65 535 + g, past rows whose target is ignored (a uniform `continue` between
// barriers).
TEST_F(LayerKernelTest, CrossEntropyWithMoreRowsThanWorkgroups) {
    EXPECT_GT(expectMatchesCpu({.type = "cross_entropy",
                                .params = {{"ignore_index", int64_t{3}}},
                                .inputs = {{Shape({1, 3}), DType::Float32},
                                           {Shape({1}), DType::Int32}},
                                .batch = 65600,
                                .intRange = 4}),
              0u);
}

// Equal maxima that meet in the workgroup's tree (lanes 1 and 3), and in one lane's walk
// (classes 2 and 66, both lane 2): the first index wins, as std::max_element picks.
TEST_F(GpuTest, ArgmaxTiesAcrossAndWithinLanesPickTheFirstMaximum) {
    const uint32_t rows = 3, classes = 130;
    auto logits = randomFloats(size_t(rows) * classes, 11);
    logits[0 * classes + 65] = logits[0 * classes + 3] = 7.0f;   // lane 1 holds the later one
    logits[1 * classes + 66] = logits[1 * classes + 2] = 7.0f;   // one lane, the later second
    logits[2 * classes + 129] = logits[2 * classes + 64] = 7.0f;  // both past the first stride
    std::vector<float> want(rows), targets(rows);
    for (uint32_t r = 0; r < rows; ++r) {
        const float* row = &logits[size_t(r) * classes];
        want[r] = float(std::max_element(row, row + classes) - row);
        targets[r] = want[r];
    }
    ASSERT_EQ(want, (std::vector<float>{3, 2, 64}));
    const BufferRange bl = upload(logits), bt = upload(targets), bp = zeros(rows);
    const BufferRange correct = zeros(1), counted = zeros(1);
    auto rec = recorder();
    ASSERT_TRUE(ops::recordArgmaxAccuracy(*rec, {.rows = rows,
                                                 .classes = classes,
                                                 .ignoreIndex = -100,
                                                 .logits = bl,
                                                 .targets = bt,
                                                 .predictions = bp,
                                                 .correct = correct,
                                                 .counted = counted}));
    ASSERT_TRUE(rec->run());
    EXPECT_EQ(download(bp), want);
    EXPECT_EQ(download(correct)[0], float(rows));
}

// Argmax past the workgroup count along x, as CrossEntropyWithMoreRowsThanWorkgroups.
TEST_F(GpuTest, ArgmaxWithMoreRowsThanWorkgroups) {
    const uint32_t rows = 65600, classes = 3;
    const auto logits = randomFloats(size_t(rows) * classes, 12);
    std::vector<float> want(rows), targets(rows);
    float wantCorrect = 0;
    for (uint32_t r = 0; r < rows; ++r) {
        const float* row = &logits[size_t(r) * classes];
        want[r] = float(std::max_element(row, row + classes) - row);
        targets[r] = float(r % classes);
        wantCorrect += want[r] == targets[r] ? 1.0f : 0.0f;
    }
    const BufferRange bl = upload(logits), bt = upload(targets), bp = zeros(rows);
    const BufferRange correct = zeros(1);
    auto rec = recorder();
    ASSERT_TRUE(ops::recordArgmaxAccuracy(*rec, {.rows = rows,
                                                 .classes = classes,
                                                 .logits = bl,
                                                 .targets = bt,
                                                 .predictions = bp,
                                                 .correct = correct}));
    ASSERT_TRUE(rec->run());
    EXPECT_EQ(download(bp), want);
    EXPECT_EQ(download(correct)[0], wantCorrect);
}

}  // namespace
}  // namespace strata::gpu::test

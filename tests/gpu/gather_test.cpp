// Batches gathered from a dataset resident in device memory, against the CPU's row copies:
// repeated and out-of-order rows, rows of one value (labels), and a dataset split across bindings.
#include "gpu/ops/gather.h"
#include "gpu_fixture.h"

namespace strata::gpu::test {
namespace {

std::vector<float> gatherOnCpu(const std::vector<float>& source, size_t rowFloats,
                               const std::vector<float>& indices) {
    const size_t rows = source.size() / rowFloats;
    std::vector<float> out;
    for (float f : indices) {
        const bool valid = f >= 0 && f < float(rows);
        for (size_t c = 0; c < rowFloats; ++c) {
            out.push_back(valid ? source[size_t(f) * rowFloats + c] : 0.0f);
        }
    }
    return out;
}

TEST_F(GpuTest, GatherRowsMatchesTheCpu) {
    struct Case {
        size_t rows, rowFloats;
        std::vector<float> indices;
        uint64_t maxBinding;  // 0: the device's own limit
    };
    const std::vector<Case> cases = {
        {10, 1, {3, 3, 0, 9}, 0},                              // labels: one value per row
        {50, 33, {49, 0, 17, 17, 2, 31, 8}, 0},                // repeated rows, not sorted
        {1, 7, {0}, 0},                                        // batch of one
        {300, 13, {299, 0, 150, 151, 40, 41, 42, 260}, 1024},  // split: ~19 rows per binding
        {20, 5, {4, -1, 20, 7}, 0},  // out of range: zeros instead of a stray read
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(testing::Message() << c.rows << " rows of " << c.rowFloats << ", "
                                        << c.indices.size() << " gathered");
        const auto source = randomFloats(c.rows * c.rowFloats, uint32_t(c.rows));
        const size_t n = c.indices.size();
        const BufferRange bsrc = upload(source), bidx = upload(c.indices);
        const BufferRange bdst = upload(std::vector<float>(n * c.rowFloats, NAN));
        if (c.maxBinding) dev().setMaxBindingBytesForTesting(c.maxBinding);
        auto rec = recorder();
        auto ok = ops::recordGatherRows(*rec, bsrc, c.rowFloats, bidx, bdst);
        dev().setMaxBindingBytesForTesting(~0ull);
        ASSERT_TRUE(ok) << ok.message();
        if (c.maxBinding) {
            EXPECT_GT(rec->commandCount(), 10u) << "one dispatch per part";
        }
        ASSERT_TRUE(rec->run());
        EXPECT_EQ(download(bdst), gatherOnCpu(source, c.rowFloats, c.indices));
    }
}

TEST_F(GpuTest, GatherRowsReadsNewIndicesOnEveryReplay) {
    const size_t rows = 40, rowFloats = 6;
    const auto source = randomFloats(rows * rowFloats, 8);
    std::vector<float> indices = {1, 2, 3};
    const BufferRange bsrc = upload(source), bidx = upload(indices), bdst = zeros(3 * rowFloats);
    auto rec = recorder();
    ASSERT_TRUE(ops::recordGatherRows(*rec, bsrc, rowFloats, bidx, bdst));
    for (float first : {0.0f, 39.0f, 12.0f}) {
        indices = {first, 5, first};
        ASSERT_TRUE(gpuContext().staging->upload(bidx, indices.data(), 12));
        ASSERT_TRUE(rec->run());
        EXPECT_EQ(download(bdst), gatherOnCpu(source, rowFloats, indices)) << "first " << first;
    }
}

TEST_F(GpuTest, GatherRowsRefusesMismatchedSizes) {
    const BufferRange bsrc = zeros(60), bidx = zeros(4), bdst = zeros(4 * 6 + 1);
    auto rec = recorder();
    EXPECT_FALSE(ops::recordGatherRows(*rec, bsrc, 7, bidx, bdst)) << "60 floats are not rows of 7";
    EXPECT_FALSE(ops::recordGatherRows(*rec, bsrc, 6, bidx, bdst)) << "dst is not 4 rows of 6";
}

}  // namespace
}  // namespace strata::gpu::test

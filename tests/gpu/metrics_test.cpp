// The trainer's device-side accuracy (argmax per row, correct predictions added to a counter)
// against the CPU loop core/train's ClassifierScore runs.
#include <algorithm>
#include <cmath>

#include "gpu/ops/metrics.h"
#include "gpu_fixture.h"

namespace strata::gpu::test {
namespace {

TEST_F(GpuTest, ArgmaxAccuracyMatchesACpuLoop) {
    struct Case {
        uint32_t rows, classes;
        int32_t ignoreIndex;
    };
    for (const Case& c : {Case{1, 5, -100}, Case{70, 5, 2}, Case{9, 70, -100}, Case{3, 1, -100}}) {
        SCOPED_TRACE(testing::Message() << c.rows << "x" << c.classes << " ignore "
                                        << c.ignoreIndex);
        auto logits = randomFloats(size_t(c.rows) * c.classes, c.rows + c.classes);
        // Ties pick the first maximum, as std::max_element does.
        if (c.classes >= 4) {
            logits[1] = logits[3] = 5.0f;
        }
        std::vector<float> targets(c.rows);
        for (uint32_t r = 0; r < c.rows; ++r) {
            // Mostly right, some wrong, some ignored, one out of range.
            const float* row = &logits[size_t(r) * c.classes];
            const int64_t best = std::max_element(row, row + c.classes) - row;
            targets[r] = float(r % 3 == 0 ? (best + 1) % c.classes : best);
            if (r % 7 == 5) targets[r] = float(c.ignoreIndex);
            if (r == 4) targets[r] = float(c.classes);
        }
        std::vector<float> wantPred(c.rows);
        float wantCorrect = 3.0f, wantCounted = 10.0f;  // the counters accumulate
        for (uint32_t r = 0; r < c.rows; ++r) {
            const float* row = &logits[size_t(r) * c.classes];
            const int64_t pred = std::max_element(row, row + c.classes) - row;
            wantPred[r] = float(pred);
            const int64_t t = std::lround(targets[r]);
            if (t == c.ignoreIndex || t < 0 || t >= c.classes) continue;
            wantCounted += 1;
            if (pred == t) wantCorrect += 1;
        }
        const BufferRange bl = upload(logits), bt = upload(targets), bp = zeros(c.rows);
        const BufferRange correct = upload({3.0f}), counted = upload({10.0f});
        auto rec = recorder();
        ASSERT_TRUE(ops::recordArgmaxAccuracy(*rec, {.rows = c.rows,
                                                     .classes = c.classes,
                                                     .ignoreIndex = c.ignoreIndex,
                                                     .logits = bl,
                                                     .targets = bt,
                                                     .predictions = bp,
                                                     .correct = correct,
                                                     .counted = counted}));
        ASSERT_TRUE(rec->run());
        EXPECT_EQ(download(bp), wantPred);
        EXPECT_EQ(download(correct)[0], wantCorrect);
        EXPECT_EQ(download(counted)[0], wantCounted);
        // A replay adds the same counts again: nothing was captured at record time.
        ASSERT_TRUE(rec->run());
        EXPECT_EQ(download(correct)[0], 2 * wantCorrect - 3.0f);
    }
}

TEST_F(GpuTest, ArgmaxAccuracyWithoutACountedCounter) {
    const std::vector<float> logits = {0.1f, 0.9f, 0.3f,   // (3, 3): predictions 1, 0, 2
                                       0.8f, 0.2f, 0.1f,
                                       0.0f, 0.0f, 0.5f};
    const BufferRange bl = upload(logits), bt = upload({1.0f, 2.0f, 2.0f});
    const BufferRange bp = zeros(3), correct = upload({0.0f});
    auto rec = recorder();
    ASSERT_TRUE(ops::recordArgmaxAccuracy(
        *rec, {.rows = 3, .classes = 3, .logits = bl, .targets = bt, .predictions = bp,
               .correct = correct}));
    ASSERT_TRUE(rec->run());
    EXPECT_EQ(download(bp), (std::vector<float>{1, 0, 2}));
    EXPECT_EQ(download(correct)[0], 2.0f);
}

}  // namespace
}  // namespace strata::gpu::test

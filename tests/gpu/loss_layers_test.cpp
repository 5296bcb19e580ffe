// Loss kernels against the CPU kernels. The harness seeds the scalar's gradient with a random
// value (not 1), so a backward that assumed 1 at record time would fail here.
#include <cstring>

#include "gpu/ops/loss.h"
#include "layer_check.h"

namespace strata::gpu::test {
namespace {

TEST_F(LayerKernelTest, CrossEntropyMatchesCpu) {
    struct Case {
        Shape logits;
        int64_t batch;
        Params params;
        int64_t intRange;
    };
    const std::vector<Case> cases = {
        {Shape({1, 5}), 1, {}, 5},
        {Shape({1, 5}), 7, {{"label_smoothing", 0.1}}, 5},
        // Targets 2 ignored; 5 and 6 lie outside [0, 5) and count as ignored, as on the CPU.
        {Shape({1, 5}), 9, {{"ignore_index", int64_t{2}}}, 7},
        {Shape({1, 3, 5}), 2, {{"ignore_index", int64_t{2}}, {"label_smoothing", 0.1}}, 5},
        // 75 rows (more than the row-group cap) of 70 classes (more than a workgroup's width).
        {Shape({1, 25, 70}), 3, {{"label_smoothing", 0.1}}, 70},
        // Every target ignored: the CPU's loss is 0 and no gradient flows.
        {Shape({1, 4}), 3, {{"ignore_index", int64_t{0}}}, 1},
    };
    for (const auto& c : cases) {
        std::vector<int64_t> target = c.logits.dims();
        target.pop_back();
        EXPECT_GT(expectMatchesCpu({.type = "cross_entropy",
                          .params = c.params,
                          .inputs = {{c.logits, DType::Float32}, {Shape(target), DType::Int32}},
                          .batch = c.batch,
                          .intRange = c.intRange}), 0u);
    }
}

TEST_F(LayerKernelTest, MseAndBceWithLogitsMatchCpu) {
    const std::vector<std::pair<Shape, int64_t>> shapes = {
        {Shape({1, 7}), 1},
        {Shape({1, 3, 7, 3}), 2},
        {Shape({1, 1000}), 3},  // several partial sums before the final reduction
    };
    for (const char* type : {"mse", "bce_with_logits"}) {
        for (const auto& [shape, batch] : shapes) {
            EXPECT_GT(expectMatchesCpu({.type = type,
                              .inputs = {{shape, DType::Float32}, {shape, DType::Float32}},
                              .batch = batch}), 0u);
        }
    }
}

// A step is recorded once and replayed: the loss must be bit-identical on every replay (no float
// atomics) and the backward must follow whatever gradient the backend seeds before a replay.
TEST_F(GpuTest, CrossEntropyReplaysDeterministicallyAndReadsTheSeededGradient) {
    const uint32_t rows = 37, classes = 11;
    const auto logits = randomFloats(size_t(rows) * classes, 5, -3.0f, 3.0f);
    std::vector<float> targets(rows);
    for (uint32_t r = 0; r < rows; ++r) targets[r] = float(r % classes);
    const ops::CrossEntropyArgs a{.rows = rows, .classes = classes, .ignoreIndex = 3,
                                  .labelSmoothing = 0.1f, .logits = upload(logits),
                                  .targets = upload(targets)};
    const BufferRange loss = zeros(1), partials = zeros(ops::crossEntropyPartials(rows));
    const BufferRange grad = upload({1.0f}), scale = zeros(1), dx = zeros(logits.size());
    auto fwd = recorder();
    ASSERT_TRUE(ops::recordCrossEntropyFwd(*fwd, a, partials, loss));
    ASSERT_TRUE(fwd->run());
    const float first = download(loss)[0];
    EXPECT_GT(first, 0.5f);
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(fwd->run());
        const float again = download(loss)[0];
        EXPECT_EQ(std::memcmp(&again, &first, 4), 0) << again << " after " << first;
    }

    auto bwd = recorder();
    ASSERT_TRUE(ops::recordCrossEntropyBwd(*bwd, a, grad, scale, dx));
    ASSERT_TRUE(bwd->run());
    const auto once = download(dx);
    const float seeded = -2.5f;  // seeded after recording
    ASSERT_TRUE(gpuContext().staging->upload(grad, &seeded, 4));
    ASSERT_TRUE(bwd->run());
    const auto after = download(dx);
    double largest = 0;
    for (size_t i = 0; i < once.size(); ++i) {
        EXPECT_NEAR(after[i], once[i] * (1.0f + seeded), 1e-6) << "element " << i;
        largest = std::max(largest, std::abs(double(once[i])));
    }
    EXPECT_GT(largest, 1e-3) << "the gradient should not be zero";
}

}  // namespace
}  // namespace strata::gpu::test

// Loss kernels against the CPU kernels. The harness seeds the scalar's gradient with a random
// value (not 1), so a backward that assumed 1 at record time would fail here.
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
        expectMatchesCpu({.type = "cross_entropy",
                          .params = c.params,
                          .inputs = {{c.logits, DType::Float32}, {Shape(target), DType::Int32}},
                          .batch = c.batch,
                          .intRange = c.intRange});
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
            expectMatchesCpu({.type = type,
                              .inputs = {{shape, DType::Float32}, {shape, DType::Float32}},
                              .batch = batch});
        }
    }
}

}  // namespace
}  // namespace strata::gpu::test

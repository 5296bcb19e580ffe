// Norm-family kernels (batch_norm) against the CPU kernels: every input rank, train and eval,
// batch 1, more channels than the workgroup cap and more values per channel than a workgroup.
#include "layer_check.h"

namespace strata::gpu::test {
namespace {

TEST_F(LayerKernelTest, BatchNormMatchesCpu) {
    struct Case {
        Shape shape;
        int64_t batch;
        Params params;
    };
    const std::vector<Case> cases = {
        {Shape({1, 5}), 3, {}},
        // One value per channel: the CPU normalises with variance 0 and decays running_var.
        {Shape({1, 5}), 1, {}},
        {Shape({1, 5, 7}), 2, {{"momentum", 0.3}}},
        {Shape({1, 5, 7}), 1, {{"eps", 1e-3}}},
        {Shape({1, 3, 7, 3}), 2, {}},
        {Shape({1, 3, 7, 3}), 9, {{"momentum", 0.0}}},  // 189 values per channel
        {Shape({1, 130}), 4, {}},                       // channels beyond the group cap
    };
    for (const auto& c : cases) {
        for (bool training : {true, false}) {
            EXPECT_GT(expectMatchesCpu({.type = "batch_norm",
                              .params = c.params,
                              .inputs = {{c.shape, DType::Float32}},
                              .batch = c.batch,
                              .training = training}), 0u);
        }
    }
}

}  // namespace
}  // namespace strata::gpu::test

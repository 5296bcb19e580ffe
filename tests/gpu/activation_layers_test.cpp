// Activation-family kernels against the CPU kernels.
#include "layer_check.h"

namespace strata::gpu::test {
namespace {

TEST_F(LayerKernelTest, ElementwiseActivationsMatchCpu) {
    const std::vector<std::pair<std::string, Params>> layers = {
        {"relu", {}},
        {"leaky_relu", {{"negative_slope", 0.2}}},
        {"gelu", {}},
        {"gelu", {{"approximate", std::string("tanh")}}},
        {"sigmoid", {}},
        {"tanh", {}}};
    for (const auto& [type, params] : layers) {
        for (const Shape& s : {Shape({1, 7}), Shape({1, 3, 5, 5})}) {
            EXPECT_GT(expectMatchesCpu({.type = type, .params = params,
                              .inputs = {{s, DType::Float32}}, .batch = 3}), 0u);
        }
    }
}

}  // namespace
}  // namespace strata::gpu::test

namespace strata::gpu::test {
namespace {

TEST_F(LayerKernelTest, SoftmaxMatchesCpuOverAnyDimension) {
    const std::vector<std::tuple<Shape, int64_t, int64_t>> cases = {
        {Shape({1, 7}), -1, 1},
        {Shape({1, 70}), 1, 3},        // rows wider than a workgroup
        {Shape({1, 5, 3}), 1, 2},      // inner 3
        {Shape({1, 3, 7, 3}), -2, 1},  // inner 3 with outer 3
        {Shape({1, 3, 7, 3}), 1, 2},   // inner 21
        {Shape({1, 4, 5, 3}), -1, 1},
        {Shape({1, 5, 30}), 1, 3},     // 90 columns: more invocations than one workgroup
    };
    for (const auto& [shape, dim, batch] : cases) {
        EXPECT_GT(expectMatchesCpu({.type = "softmax",
                          .params = {{"dim", dim}},
                          .inputs = {{shape, DType::Float32}},
                          .batch = batch}), 0u);
    }
}

}  // namespace
}  // namespace strata::gpu::test

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
            expectMatchesCpu({.type = type, .params = params,
                              .inputs = {{s, DType::Float32}}, .batch = 3});
        }
    }
}

}  // namespace
}  // namespace strata::gpu::test

// Dense-family kernels against the CPU kernels, on shapes that are not multiples of any tile.
#include "layer_check.h"

namespace strata::gpu::test {
namespace {

TEST_F(LayerKernelTest, LinearMatchesCpu) {
    for (const auto& [shape, out, bias, batch] :
         std::vector<std::tuple<Shape, int64_t, bool, int64_t>>{
             {Shape({1, 5}), 3, true, 1},
             {Shape({1, 17}), 9, true, 3},
             {Shape({1, 4, 33}), 65, false, 2},
             {Shape({1, 64}), 64, true, 5}}) {
        expectMatchesCpu({.type = "linear",
                          .params = {{"out_features", out}, {"bias", bias}},
                          .inputs = {{shape, DType::Float32}},
                          .batch = batch});
    }
}

}  // namespace
}  // namespace strata::gpu::test

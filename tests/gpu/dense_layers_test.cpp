// Dense-family kernels against the CPU kernels, on shapes that are not multiples of any tile.
#include "gpu/ops/broadcast.h"
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
        EXPECT_GT(expectMatchesCpu({.type = "linear",
                          .params = {{"out_features", out}, {"bias", bias}},
                          .inputs = {{shape, DType::Float32}},
                          .batch = batch}), 0u);
    }
}

TEST_F(LayerKernelTest, FlattenAndReshapeMatchCpu) {
    for (const auto& [shape, batch] : std::vector<std::pair<Shape, int64_t>>{
             {Shape({1, 3}), 1}, {Shape({1, 3, 5, 7}), 2}, {Shape({1, 2, 33}), 3}}) {
        EXPECT_GT(
            expectMatchesCpu(
                {.type = "flatten", .inputs = {{shape, DType::Float32}}, .batch = batch}),
            0u);
    }
    for (const auto& [shape, target, batch] :
         std::vector<std::tuple<Shape, std::vector<int64_t>, int64_t>>{
             {Shape({1, 12}), {3, 4}, 1},
             {Shape({1, 3, 5, 7}), {7, -1}, 2},
             {Shape({1, 2, 33}), {66}, 3}}) {
        EXPECT_GT(expectMatchesCpu({.type = "reshape",
                          .params = {{"shape", target}},
                          .inputs = {{shape, DType::Float32}},
                          .batch = batch}), 0u);
    }
}

TEST_F(LayerKernelTest, DropoutMatchesCpuInTrainingAndIsIdentityInEval) {
    for (const auto& [shape, p, batch, training] :
         std::vector<std::tuple<Shape, double, int64_t, bool>>{
             {Shape({1, 7}), 0.5, 1, true},
             {Shape({1, 3, 65}), 0.1, 3, true},
             {Shape({1, 3, 65}), 0.9, 2, true},
             {Shape({1, 33}), 0.0, 2, true},
             {Shape({1, 33}), 0.5, 2, false}}) {
        EXPECT_GT(expectMatchesCpu({.type = "dropout",
                          .params = {{"p", p}},
                          .inputs = {{shape, DType::Float32}},
                          .batch = batch,
                          .training = training,
                          .tol = 1e-6}), 0u);
    }
}

TEST_F(LayerKernelTest, AddBroadcastsAndReducesGradientsLikeCpu) {
    using Shapes = std::vector<Shape>;
    for (const auto& [shapes, batch] : std::vector<std::pair<Shapes, int64_t>>{
             {{Shape({1, 5}), Shape({1, 5})}, 1},
             {{Shape({1, 3, 1, 5}), Shape({1, 1, 4, 1})}, 2},
             {{Shape({1, 3, 1, 5}), Shape({1, 1, 4, 1}), Shape({1, 3, 4, 5})}, 3},
             {{Shape({1, 1, 1}), Shape({1, 6, 7})}, 2},  // one value per sample
             {{Shape({1, 6, 7}), Shape({1, 6, 1}), Shape({1, 1, 7}), Shape({1, 6, 7}),
               Shape({1, 1, 1}), Shape({1, 6, 7}), Shape({1, 6, 1}), Shape({1, 1, 7})},
              2},  // eight inputs
             {{Shape({1, 2, 3}), Shape({1, 2, 3})}, 1},
         }) {
        std::vector<TensorType> inputs;
        for (const auto& s : shapes) inputs.push_back({s, DType::Float32});
        EXPECT_GT(expectMatchesCpu({.type = "add",
                          .params = {{"inputs", int64_t(shapes.size())}},
                          .inputs = inputs,
                          .batch = batch,
                          .tol = 1e-6}), 0u);
    }
}

TEST_F(LayerKernelTest, ConcatJoinsAlongEveryAxisLikeCpu) {
    using Shapes = std::vector<Shape>;
    for (const auto& [shapes, axis, batch] : std::vector<std::tuple<Shapes, int64_t, int64_t>>{
             {{Shape({1, 3}), Shape({1, 5})}, -1, 1},
             {{Shape({1, 2, 3, 4}), Shape({1, 5, 3, 4}), Shape({1, 1, 3, 4})}, 1, 2},
             {{Shape({1, 2, 3, 4}), Shape({1, 2, 1, 4})}, 2, 3},
             {{Shape({1, 2, 3, 4}), Shape({1, 2, 3, 7}), Shape({1, 2, 3, 1})}, 3, 2},
             {{Shape({1, 2, 3, 4}), Shape({1, 2, 3, 7})}, -1, 2},
             {{Shape({1, 1}), Shape({1, 2}), Shape({1, 3}), Shape({1, 4}), Shape({1, 5}),
               Shape({1, 6}), Shape({1, 7}), Shape({1, 8})},
              1, 3},
         }) {
        std::vector<TensorType> inputs;
        for (const auto& s : shapes) inputs.push_back({s, DType::Float32});
        EXPECT_GT(expectMatchesCpu({.type = "concat",
                          .params = {{"inputs", int64_t(shapes.size())}, {"axis", axis}},
                          .inputs = inputs,
                          .batch = batch,
                          .tol = 1e-6}), 0u);
    }
}

// x + x and cat(x, x): both gradients are one tensor, so the kernels must not let two
// invocations add into the same float at once (they split such inputs across dispatches).
TEST_F(GpuTest, AddAndConcatFedOneTensorTwiceAccumulateBothGradients) {
    const Shape xs({2, 3, 5});
    const auto dyAdd = randomFloats(30, 1), dyCat = randomFloats(60, 2);
    const auto start = randomFloats(30, 3);
    const GpuTensor dx{upload(start), xs}, dx2{upload(start), xs};
    auto rec = recorder();
    ASSERT_TRUE(ops::recordAddBwd(*rec, {upload(dyAdd), xs}, {dx, dx}, "add backward"));
    ASSERT_TRUE(ops::recordConcatBwd(*rec, 1, {upload(dyCat), Shape({2, 6, 5})}, {xs, xs},
                                     {dx2, dx2}, "concat backward"));
    EXPECT_EQ(rec->commandCount(), 4u) << "one dispatch per copy of the shared gradient";
    ASSERT_TRUE(rec->run());
    std::vector<float> wantAdd(30), wantCat(30);
    for (size_t i = 0; i < 30; ++i) {
        wantAdd[i] = start[i] + dyAdd[i] + dyAdd[i];
        const size_t n = i / 15, r = i % 15;  // sample n, element r of its (3, 5) block
        wantCat[i] = start[i] + dyCat[n * 30 + r] + dyCat[n * 30 + 15 + r];
    }
    EXPECT_LT(maxRelError(download(dx.range), wantAdd), 1e-6f);
    EXPECT_LT(maxRelError(download(dx2.range), wantCat), 1e-6f);
}

}  // namespace
}  // namespace strata::gpu::test

#include <gtest/gtest.h>

#include "core/engine/cpu_math.h"
#include "layers/harness.h"

namespace strata::test {
namespace {

TEST(Linear, ShapesAndParametersFollowPyTorch) {
    auto info = inferConcrete("linear", {{"out_features", int64_t{10}}},
                              {{Shape{4, 84}, DType::Float32}});
    ASSERT_TRUE(info.ok()) << info.message();
    EXPECT_EQ(info->outputs[0].shape, (Shape{Shape::kBatch, 10}));
    ASSERT_EQ(info->weights.size(), 2u);
    EXPECT_EQ(info->weights[0].dims, (std::vector<int64_t>{10, 84}));
    EXPECT_EQ(info->weights[1].dims, (std::vector<int64_t>{10}));
    EXPECT_EQ(info->flops, 10 * (2 * 84 + 1));
}

TEST(Linear, AppliesToTheLastDimensionOfSequences) {
    auto info = inferConcrete("linear", {{"out_features", int64_t{65}}, {"bias", false}},
                              {{Shape{2, 7, 128}, DType::Float32}});
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->outputs[0].shape, (Shape{Shape::kBatch, 7, 65}));
    EXPECT_EQ(info->weights.size(), 1u);
}

TEST(Linear, RefusesAnInputWithoutFeatures) {
    auto info = inferConcrete("linear", {}, {{Shape{4}, DType::Float32}});
    ASSERT_FALSE(info.ok());
    EXPECT_NE(info.message().find("'src0' gives (N,)"), std::string::npos) << info.message();
}

TEST(Linear, BackwardMatchesFiniteDifferences) {
    auto run = makeRun("linear", {{"out_features", int64_t{5}}},
                       {{Shape{3, 7}, DType::Float32}}, 3);
    EXPECT_LT(gradcheckMaxError(run), 2e-3);
}

TEST(Flatten, BackwardMatchesFiniteDifferences) {
    auto run = makeRun("flatten", {}, {{Shape{2, 3, 2, 2}, DType::Float32}}, 2);
    EXPECT_EQ(run.info.outputs[0].shape, (Shape{Shape::kBatch, 12}));
    EXPECT_LT(gradcheckMaxError(run), 2e-3);
}

TensorType f32(Shape s) { return {std::move(s), DType::Float32}; }

struct ShapeCase {
    const char* type;
    Params params;
    std::vector<TensorType> inputs;
    Shape out;          // expected output when accepted (batched)
    const char* error;  // nullptr: accepted
};

constexpr int64_t N = Shape::kBatch;

TEST(StructuralShapes, FollowPyTorchAndExplainRefusals) {
    const std::vector<ShapeCase> table = {
        {"reshape", {{"shape", std::vector<int64_t>{3, 4}}}, {f32({2, 12})}, Shape{N, 3, 4},
         nullptr},
        {"reshape", {{"shape", std::vector<int64_t>{-1, 2}}}, {f32({2, 3, 4})}, Shape{N, 6, 2},
         nullptr},
        {"reshape", {{"shape", std::vector<int64_t>{4}}}, {{Shape{2, 2, 2}, DType::Int32}},
         Shape{N, 4}, nullptr},
        {"reshape", {{"shape", std::vector<int64_t>{5, 2}}}, {f32({2, 3, 4})}, {},
         "cannot reshape into (N, 5, 2) (10 values per sample) because 'src0' gives (N, 3, 4) "
         "(12 values per sample)"},
        {"reshape", {{"shape", std::vector<int64_t>{-1, 5}}}, {f32({2, 12})}, {},
         "12 values per sample are not a multiple of 5"},
        {"reshape", {{"shape", std::vector<int64_t>{-1, -1}}}, {f32({2, 12})}, {},
         "can infer only one dimension"},
        {"reshape", {{"shape", std::vector<int64_t>{0, 12}}}, {f32({2, 12})}, {},
         "needs positive sizes (or one -1) but the target (N, 0, 12) has 0"},
        {"dropout", {}, {f32({2, 3, 4})}, Shape{N, 3, 4}, nullptr},
        {"dropout", {}, {{Shape{2, 3}, DType::Int32}}, {},
         "expects float input but 'src0' gives (N, 3) of integers"},
        {"add", {}, {f32({2, 3, 4}), f32({2, 3, 4})}, Shape{N, 3, 4}, nullptr},
        {"add", {{"inputs", int64_t{3}}}, {f32({2, 3, 4}), f32({2, 1, 4}), f32({2, 3, 1})},
         Shape{N, 3, 4}, nullptr},
        {"add", {}, {f32({2, 1, 5}), f32({2, 4, 1})}, Shape{N, 4, 5}, nullptr},
        {"add", {}, {f32({2, 3, 4}), f32({2, 3, 5})}, {},
         "cannot broadcast the inputs: 'src0' gives (N, 3, 4) and 'src1' gives (N, 3, 5), and "
         "their dimension -1 is 4 against 5; sizes must match or be 1"},
        {"add", {{"inputs", int64_t{3}}}, {f32({2, 3, 1}), f32({2, 1, 4}), f32({2, 2, 4})}, {},
         "'src0' gives (N, 3, 1) and 'src2' gives (N, 2, 4), and their dimension -2 is 3 "
         "against 2"},
        {"add", {}, {f32({2, 4}), f32({2, 3, 4})}, {},
         "cannot line up the batch dimensions: 'src0' gives (N, 4) has rank 2 but another input "
         "has rank 3"},
        {"add", {}, {f32({2, 4}), {Shape{2, 4}, DType::Int32}}, {},
         "adds float tensors but 'src1' gives (N, 4) of integers"},
        {"concat", {}, {f32({2, 3, 2}), f32({2, 3, 5})}, Shape{N, 3, 7}, nullptr},
        {"concat", {{"inputs", int64_t{3}}, {"axis", int64_t{1}}},
         {f32({2, 1, 4}), f32({2, 2, 4}), f32({2, 3, 4})}, Shape{N, 6, 4}, nullptr},
        {"concat", {{"axis", int64_t{-2}}}, {f32({2, 1, 4}), f32({2, 2, 4})}, Shape{N, 3, 4},
         nullptr},
        {"concat", {}, {{Shape{2, 3}, DType::Int32}, {Shape{2, 2}, DType::Int32}},
         Shape{N, 5}, nullptr},
        {"concat", {{"axis", int64_t{0}}}, {f32({2, 3}), f32({2, 3})}, {},
         "cannot join along the batch dimension (axis 0)"},
        {"concat", {{"axis", int64_t{-2}}}, {f32({2, 3}), f32({2, 3})}, {},
         "cannot join along the batch dimension (axis -2)"},
        {"concat", {{"axis", int64_t{3}}}, {f32({2, 3, 4}), f32({2, 3, 4})}, {},
         "has axis 3 but the inputs have 3 dimensions: 'src0' gives (N, 3, 4)"},
        {"concat", {}, {f32({2, 3, 4}), f32({2, 4})}, {},
         "joins inputs of the same rank but 'src0' gives (N, 3, 4) and 'src1' gives (N, 4)"},
        {"concat", {}, {f32({2, 3, 4}), f32({2, 2, 4})}, {},
         "joins along axis -1 inputs that match in every other dimension but 'src0' gives "
         "(N, 3, 4) and 'src1' gives (N, 2, 4)"},
        {"concat", {}, {f32({2, 3}), {Shape{2, 3}, DType::Int32}}, {},
         "joins tensors of one type but 'src0' gives (N, 3) of float32 and 'src1' gives (N, 3) "
         "of int32"},
    };
    for (const auto& tc : table) {
        SCOPED_TRACE(std::string(tc.type) + " " + tc.inputs[0].shape.str());
        auto info = inferConcrete(tc.type, tc.params, tc.inputs);
        if (!tc.error) {
            ASSERT_TRUE(info.ok()) << info.message();
            EXPECT_EQ(info->outputs[0].shape.str(), tc.out.str());
            EXPECT_EQ(info->outputs[0].dtype, tc.inputs[0].dtype);
            EXPECT_TRUE(info->weights.empty());
        } else {
            ASSERT_FALSE(info.ok());
            EXPECT_NE(info.message().find(tc.error), std::string::npos) << info.message();
        }
    }
}

TEST(Variadic, PortsFollowTheInputsParameter) {
    for (const char* type : {"add", "concat"}) {
        const LayerSpec* s = findLayer(type);
        ASSERT_NE(s, nullptr);
        EXPECT_EQ(s->variadicCountParam, "inputs");
        EXPECT_EQ(s->inputPorts(s->defaultParams()).size(), 2u);
        Params p = *s->checkParams({{"inputs", int64_t{5}}});
        auto ports = s->inputPorts(p);
        ASSERT_EQ(ports.size(), 5u);
        EXPECT_EQ(ports[4].name, "in4");
        EXPECT_FALSE(s->checkParams({{"inputs", int64_t{9}}}).ok());
        EXPECT_FALSE(s->checkParams({{"inputs", int64_t{1}}}).ok());
    }
    EXPECT_EQ(std::get<int64_t>(findLayer("concat")->param("axis")->def), -1);
}

TEST(Reshape, KeepsValuesInOrderAndBackwardMatchesFiniteDifferences) {
    auto run = makeRun("reshape", {{"shape", std::vector<int64_t>{4, 3}}}, {f32({2, 3, 4})}, 2);
    forward(run);
    EXPECT_EQ(run.outputs[0].shape, (Shape{2, 4, 3}));
    EXPECT_EQ(run.outputs[0].data, run.inputs[0].data);
    EXPECT_LT(gradcheckMaxError(run), 2e-3);
}

TEST(Add, BroadcastBackwardMatchesFiniteDifferences) {
    auto run = makeRun("add", {{"inputs", int64_t{3}}},
                       {f32({2, 3, 4}), f32({2, 1, 4}), f32({2, 3, 1})}, 2);
    EXPECT_LT(gradcheckMaxError(run), 2e-3);
    auto both = makeRun("add", {}, {f32({2, 1, 3, 1}), f32({2, 2, 1, 4})}, 2);
    EXPECT_LT(gradcheckMaxError(both), 2e-3);
}

TEST(Add, BroadcastInputGetsTheSumOfItsGradients) {
    auto run = makeRun("add", {}, {f32({1, 3, 2}), f32({1, 1, 2})}, 1);
    Grads g = backward(run, {Tensor(Shape{1, 3, 2}, {1, 2, 3, 4, 5, 6})});
    EXPECT_EQ(g.inputs[1].data, (std::vector<float>{9, 12}));
    EXPECT_EQ(g.inputs[0].data, (std::vector<float>{1, 2, 3, 4, 5, 6}));
    EXPECT_FLOAT_EQ(run.outputs[0].data[5], run.inputs[0].data[5] + run.inputs[1].data[1]);
}

TEST(Concat, BackwardMatchesFiniteDifferences) {
    auto run = makeRun("concat", {{"inputs", int64_t{3}}, {"axis", int64_t{1}}},
                       {f32({2, 1, 3}), f32({2, 2, 3}), f32({2, 3, 3})}, 2);
    EXPECT_LT(gradcheckMaxError(run), 2e-3);
    auto last = makeRun("concat", {}, {f32({2, 3, 2}), f32({2, 3, 1})}, 2);
    EXPECT_LT(gradcheckMaxError(last), 2e-3);
}

TEST(Concat, IntegerIdsPassThroughWithoutGradient) {
    auto run = makeRun("concat", {}, {{Shape{1, 2}, DType::Int32}, {Shape{1, 1}, DType::Int32}}, 1);
    run.inputs[0].data = {3, 1};
    run.inputs[1].data = {2};
    backward(run, {Tensor(Shape{1, 3}, 1.0f)});  // must not write gradients for ids
    EXPECT_EQ(run.outputs[0].data, (std::vector<float>{3, 1, 2}));
}

// Dropout: the mask is a pure function of (seed, element index), so forward and backward, and the
// CPU and Vulkan backends, agree without storing it.
TEST(Dropout, IsTheIdentityInEvaluation) {
    auto run = makeRun("dropout", {{"p", 0.5}}, {f32({4, 25})}, 4);
    run.training = false;
    Tensor dy(Shape{4, 25}, 0.5f);
    Grads g = backward(run, {dy});
    EXPECT_EQ(run.outputs[0].data, run.inputs[0].data);
    EXPECT_EQ(g.inputs[0].data, dy.data);
}

TEST(Dropout, TrainingMaskComesFromTheSeedAndScalesKeptValues) {
    const float p = 0.3f;
    auto run = makeRun("dropout", {{"p", double(p)}}, {f32({10, 100})}, 10);
    for (auto& v : run.inputs[0].data) v = 1.0f + std::abs(v);  // no zeros in the input
    run.seed = 99;
    Tensor dy(Shape{10, 100}, 2.0f);
    Grads g = backward(run, {dy});
    const float scale = 1.0f / (1.0f - p);
    int64_t dropped = 0;
    for (int64_t i = 0; i < 1000; ++i) {
        const bool keep = cpu::uniform01(99, static_cast<uint64_t>(i)) >= p;
        const float y = run.outputs[0].data[static_cast<size_t>(i)];
        const float dx = g.inputs[0].data[static_cast<size_t>(i)];
        if (keep) {
            EXPECT_FLOAT_EQ(y, run.inputs[0].data[static_cast<size_t>(i)] * scale) << i;
            EXPECT_FLOAT_EQ(dx, 2.0f * scale) << i;
        } else {
            ++dropped;
            EXPECT_EQ(y, 0.0f) << i;
            EXPECT_EQ(dx, 0.0f) << i;  // backward uses the forward's mask
        }
    }
    EXPECT_NEAR(double(dropped) / 1000.0, p, 0.05);

    // The same seed gives the same mask; another seed another one.
    const std::vector<float> first = run.outputs[0].data;
    forward(run);
    EXPECT_EQ(run.outputs[0].data, first);
    run.seed = 100;
    forward(run);
    EXPECT_NE(run.outputs[0].data, first);
}

TEST(Dropout, TrainingBackwardMatchesFiniteDifferences) {
    auto run = makeRun("dropout", {{"p", 0.4}}, {f32({3, 8})}, 3);
    EXPECT_LT(gradcheckMaxError(run), 2e-3);
}

TEST(Relu, BackwardMatchesFiniteDifferences) {
    auto run = makeRun("relu", {}, {{Shape{4, 9}, DType::Float32}}, 4);
    keepAwayFromKinks(run.inputs[0], {0.0f});
    EXPECT_LT(gradcheckMaxError(run, 1e-3), 2e-3);
}

}  // namespace
}  // namespace strata::test

namespace strata::test {
namespace {

TEST(DenseFixtures, MatchPyTorch) {
    auto fixtures = loadFixtures("dense");
    ASSERT_FALSE(fixtures["cases"].empty());
    for (const auto& c : fixtures["cases"]) expectMatchesFixture(c);
}

}  // namespace
}  // namespace strata::test

#include <gtest/gtest.h>

#include <cmath>

#include "layers/harness.h"

namespace strata::test {
namespace {

const TensorType kF2{Shape{4, 5}, DType::Float32};     // logits (N, C)
const TensorType kF3{Shape{2, 3, 5}, DType::Float32};  // logits (N, T, C)
const TensorType kI1{Shape{4}, DType::Int32};          // class ids (N)
const TensorType kI2{Shape{2, 3}, DType::Int32};       // class ids (N, T)

struct ShapeCase {
    const char* type;
    std::vector<TensorType> inputs;
    const char* error;  // nullptr: accepted, with a scalar output
};

TEST(LossShapes, AcceptTheRightPairsAndExplainTheWrongOnes) {
    const std::vector<ShapeCase> table = {
        {"cross_entropy", {kF2, kI1}, nullptr},
        {"cross_entropy", {kF3, kI2}, nullptr},
        {"cross_entropy", {{Shape{4}, DType::Float32}, kI1},
         "expects logits (N, C) or (N, T, C) on 'input' but 'src0' gives (N,)"},
        {"cross_entropy", {{Shape{2, 3, 4, 5}, DType::Float32}, kI1},
         "expects logits (N, C) or (N, T, C) on 'input' but 'src0' gives (N, 3, 4, 5)"},
        {"cross_entropy", {{Shape{4, 5}, DType::Int32}, kI1},
         "expects float logits on 'input' but 'src0' gives (N, 5) of integers"},
        {"cross_entropy", {kF2, {Shape{4}, DType::Float32}},
         "expects integer class ids (N,) on 'target' but 'src1' gives (N,) of floats"},
        {"cross_entropy", {kF3, kI1},
         "expects targets (N, 3) to match the logits (N, 3, 5) but 'src1' gives (N,)"},
        {"cross_entropy", {kF2, {Shape{4, 5}, DType::Int32}},
         "expects targets (N,) to match the logits (N, 5) but 'src1' gives (N, 5)"},
        {"mse", {kF3, kF3}, nullptr},
        {"mse", {kF2, {Shape{4, 4}, DType::Float32}},
         "expects targets shaped like the input (N, 5) but 'src1' gives (N, 4)"},
        {"mse", {kF2, {Shape{4, 5}, DType::Int32}},
         "expects float targets on 'target' but 'src1' gives (N, 5) of integers"},
        {"mse", {{Shape{4, 5}, DType::Int32}, kF2},
         "expects float predictions on 'input' but 'src0' gives (N, 5) of integers"},
        {"bce_with_logits", {kF2, kF2}, nullptr},
        {"bce_with_logits", {kF2, kF3},
         "expects targets shaped like the input (N, 5) but 'src1' gives (N, 3, 5)"},
        {"bce_with_logits", {kF2, {Shape{4, 5}, DType::Int32}},
         "expects float targets on 'target' but 'src1' gives (N, 5) of integers"},
    };
    for (const auto& tc : table) {
        SCOPED_TRACE(std::string(tc.type) + " " + tc.inputs[0].shape.str() + " " +
                     tc.inputs[1].shape.str());
        auto info = inferConcrete(tc.type, {}, tc.inputs);
        if (!tc.error) {
            ASSERT_TRUE(info.ok()) << info.message();
            ASSERT_EQ(info->outputs.size(), 1u);
            EXPECT_EQ(info->outputs[0].shape, Shape{});
            EXPECT_EQ(info->outputs[0].shape.rank(), 0);
            EXPECT_TRUE(info->weights.empty());
            EXPECT_GT(info->flops, 0);
        } else {
            ASSERT_FALSE(info.ok());
            EXPECT_NE(info.message().find(tc.error), std::string::npos) << info.message();
        }
    }
}

TEST(LossSpecs, AreLossesWithTheCatalogueNames) {
    for (const char* id : {"cross_entropy", "mse", "bce_with_logits"}) {
        const LayerSpec* s = findLayer(id);
        ASSERT_NE(s, nullptr) << id;
        EXPECT_TRUE(s->isLoss) << id;
        EXPECT_EQ(s->inputIndex({}, "input"), 0) << id;
        EXPECT_EQ(s->inputIndex({}, "target"), 1) << id;
        EXPECT_EQ(s->outputIndex("loss"), 0) << id;
    }
    const LayerSpec* ce = findLayer("cross_entropy");
    EXPECT_EQ(std::get<int64_t>(ce->param("ignore_index")->def), -100);
    EXPECT_EQ(std::get<double>(ce->param("label_smoothing")->def), 0.0);
    EXPECT_FALSE(ce->checkParams({{"label_smoothing", 1.5}}).ok());
}

TEST(CrossEntropy, UniformLogitsCostLogC) {
    auto run = makeRun("cross_entropy", {}, {kF2, kI1}, 4);
    for (auto& v : run.inputs[0].data) v = 0.25f;
    forward(run);
    EXPECT_NEAR(run.outputs[0].data[0], std::log(5.0), 1e-6);
}

TEST(CrossEntropy, IgnoredTargetsLeaveTheMeanAndGetNoGradient) {
    auto run = makeRun("cross_entropy", {}, {kF2, kI1}, 4);
    run.inputs[1].data = {1, -100, 3, -100};
    Grads g = backward(run, {Tensor(Shape{}, 1.0f)});
    const float both = run.outputs[0].data[0];
    for (int k = 0; k < 5; ++k) {
        EXPECT_EQ(g.inputs[0].data[5 + k], 0.0f);
        EXPECT_EQ(g.inputs[0].data[15 + k], 0.0f);
    }
    // The mean of the two counted rows, each scored alone.
    auto one = makeRun("cross_entropy", {},
                       {{Shape{1, 5}, DType::Float32}, {Shape{1}, DType::Int32}}, 1);
    double sum = 0;
    for (int r : {0, 2}) {
        one.inputs[0].data.assign(run.inputs[0].data.begin() + r * 5,
                                  run.inputs[0].data.begin() + r * 5 + 5);
        one.inputs[1].data = {run.inputs[1].data[r]};
        forward(one);
        sum += one.outputs[0].data[0];
    }
    EXPECT_NEAR(both, sum / 2, 1e-6);
}

TEST(CrossEntropy, AllTargetsIgnoredGiveZeroNotNaN) {
    auto run = makeRun("cross_entropy", {}, {kF2, kI1}, 4);
    run.inputs[1].data = {-100, -100, -100, -100};
    Grads g = backward(run, {Tensor(Shape{}, 1.0f)});
    EXPECT_EQ(run.outputs[0].data[0], 0.0f);
    for (float v : g.inputs[0].data) EXPECT_EQ(v, 0.0f);
}

TEST(CrossEntropy, HugeLogitsStayFinite) {
    auto run = makeRun("cross_entropy", {}, {kF2, kI1}, 4);
    for (size_t i = 0; i < run.inputs[0].data.size(); ++i) {
        run.inputs[0].data[i] = i % 2 ? 1e4f : -1e4f;
    }
    Grads g = backward(run, {Tensor(Shape{}, 1.0f)});
    EXPECT_TRUE(std::isfinite(run.outputs[0].data[0]));
    for (float v : g.inputs[0].data) EXPECT_TRUE(std::isfinite(v));
}

TEST(CrossEntropy, BackwardMatchesFiniteDifferences) {
    auto run = makeRun("cross_entropy", {{"label_smoothing", 0.1}}, {kF2, kI1}, 4, 7, 5);
    EXPECT_LT(gradcheckMaxError(run), 2e-3);
    auto seq = makeRun("cross_entropy", {{"ignore_index", int64_t{2}}}, {kF3, kI2}, 2, 8, 5);
    EXPECT_LT(gradcheckMaxError(seq), 2e-3);
}

TEST(Mse, BackwardMatchesFiniteDifferences) {
    auto run = makeRun("mse", {}, {kF3, kF3}, 2);
    EXPECT_LT(gradcheckMaxError(run), 2e-3);
}

TEST(BceWithLogits, BackwardMatchesFiniteDifferences) {
    auto run = makeRun("bce_with_logits", {}, {kF2, kF2}, 4);
    for (auto& v : run.inputs[1].data) v = (v + 1) / 2;  // targets in [0, 1]
    EXPECT_LT(gradcheckMaxError(run), 2e-3);
}

TEST(BceWithLogits, ExtremeLogitsStayFinite) {
    auto run = makeRun("bce_with_logits", {}, {{Shape{1, 2}, DType::Float32},
                                                {Shape{1, 2}, DType::Float32}}, 1);
    run.inputs[0].data = {-200.0f, 200.0f};
    run.inputs[1].data = {0.0f, 1.0f};
    Grads g = backward(run, {Tensor(Shape{}, 1.0f)});
    EXPECT_NEAR(run.outputs[0].data[0], 0.0f, 1e-6);
    EXPECT_NEAR(g.inputs[0].data[0], 0.0f, 1e-6);
    run.inputs[1].data = {1.0f, 0.0f};  // confidently wrong: loss ~ 200
    forward(run);
    EXPECT_NEAR(run.outputs[0].data[0], 200.0f, 1e-3);
}

TEST(LossFixtures, MatchPyTorch) {
    auto fixtures = loadFixtures("loss");
    ASSERT_GE(fixtures["cases"].size(), 8u);
    for (const auto& c : fixtures["cases"]) expectMatchesFixture(c);
}

}  // namespace
}  // namespace strata::test

#include <gtest/gtest.h>

#include <cmath>

#include "layers/harness.h"

namespace strata::test {
namespace {

constexpr int64_t N = Shape::kBatch;

TensorType floats(std::vector<int64_t> dims) { return {Shape(std::move(dims)), DType::Float32}; }

TEST(BatchNormShapes, AcceptOneAndTwoDimensionalInputsOrExplainTheRefusal) {
    struct Case {
        TensorType input;
        const char* error;
    };
    const std::vector<Case> cases = {
        {floats({1, 7}), nullptr},
        {floats({1, 3, 11}), nullptr},
        {floats({1, 5, 3, 7}), nullptr},
        {floats({1}), "expects an input (N, C), (N, C, L) or (N, C, H, W) but 'src0' gives (N,)"},
        {floats({1, 2, 3, 4, 5}), "but 'src0' gives (N, 2, 3, 4, 5)"},
        {{Shape{1, 4}, DType::Int32}, "expects float input"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.input.shape.str());
        auto info = inferConcrete("batch_norm", {}, {c.input});
        if (c.error) {
            ASSERT_FALSE(info.ok());
            EXPECT_NE(info.message().find(c.error), std::string::npos) << info.message();
            continue;
        }
        ASSERT_TRUE(info.ok()) << info.message();
        auto dims = c.input.shape.dims();
        dims[0] = N;
        EXPECT_EQ(info->outputs[0].shape, Shape(dims));
        const int64_t channels = dims[1];
        ASSERT_EQ(info->weights.size(), 4u);
        const char* names[] = {"weight", "bias", "running_mean", "running_var"};
        const Init::Kind inits[] = {Init::Kind::Ones, Init::Kind::Zeros, Init::Kind::Zeros,
                                    Init::Kind::Ones};
        for (size_t k = 0; k < 4; ++k) {
            EXPECT_EQ(info->weights[k].name, names[k]);
            EXPECT_EQ(info->weights[k].dims, (std::vector<int64_t>{channels}));
            EXPECT_EQ(info->weights[k].init.kind, inits[k]);
            EXPECT_EQ(info->weights[k].trainable, k < 2) << names[k];
        }
    }
}

TEST(BatchNorm, TrainingNormalisesEachChannelWithBatchStatistics) {
    auto run = makeRun("batch_norm", {}, {floats({3, 2, 4, 5})}, 3);
    run.weights[0] = Tensor(Shape{2}, 1.0f);  // gamma
    run.weights[1] = Tensor(Shape{2}, 0.0f);  // beta
    for (auto& v : run.inputs[0].data) v = 3.0f * v + 7.0f;
    forward(run);
    for (int64_t ch = 0; ch < 2; ++ch) {
        double s = 0, ss = 0;
        for (int64_t n = 0; n < 3; ++n) {
            for (int64_t i = 0; i < 20; ++i) {
                const double v = run.outputs[0].data[(n * 2 + ch) * 20 + i];
                s += v;
                ss += v * v;
            }
        }
        EXPECT_NEAR(s / 60, 0.0, 1e-5) << "channel " << ch;
        EXPECT_NEAR(ss / 60, 1.0, 1e-3) << "channel " << ch;
    }
}

TEST(BatchNorm, EvalUsesRunningStatisticsAndLeavesThemAlone) {
    auto run = makeRun("batch_norm", {}, {floats({2, 3})}, 2);
    run.training = false;
    run.weights[2] = Tensor(Shape{3}, std::vector<float>{1.0f, -2.0f, 0.5f});  // running_mean
    run.weights[3] = Tensor(Shape{3}, std::vector<float>{4.0f, 0.25f, 1.0f});  // running_var
    const Tensor before2 = run.weights[2], before3 = run.weights[3];
    forward(run);
    for (int64_t n = 0; n < 2; ++n) {
        for (int64_t ch = 0; ch < 3; ++ch) {
            const double x = run.inputs[0].data[n * 3 + ch];
            const double want = (x - before2.data[ch]) / std::sqrt(before3.data[ch] + 1e-5) *
                                    run.weights[0].data[ch] +
                                run.weights[1].data[ch];
            EXPECT_NEAR(run.outputs[0].data[n * 3 + ch], want, 1e-5);
        }
    }
    EXPECT_EQ(run.weights[2], before2);
    EXPECT_EQ(run.weights[3], before3);
}

TEST(BatchNorm, TrainingUpdatesRunningStatisticsWithUnbiasedVariance) {
    Params p{{"momentum", 0.25}};
    auto run = makeRun("batch_norm", p, {floats({4, 1})}, 4);
    // Mean 3, unbiased variance 14/3.
    run.inputs[0] = Tensor(Shape{4, 1}, std::vector<float>{1, 2, 3, 6});
    run.weights[2] = Tensor(Shape{1}, 1.0f);
    run.weights[3] = Tensor(Shape{1}, 2.0f);
    forward(run);
    EXPECT_NEAR(run.weights[2].data[0], 0.75 * 1 + 0.25 * 3, 1e-6);
    EXPECT_NEAR(run.weights[3].data[0], 0.75 * 2 + 0.25 * 14.0 / 3.0, 1e-6);
}

TEST(BatchNorm, BackwardMatchesFiniteDifferencesInTrainAndEvalMode) {
    struct Case {
        TensorType input;
        bool training;
    };
    for (const Case& c : std::vector<Case>{{floats({3, 2, 3, 5}), true},
                                           {floats({1, 3, 2, 3}), true},
                                           {floats({4, 5}), true},
                                           {floats({2, 3, 7}), true},
                                           {floats({3, 2, 3, 5}), false},
                                           {floats({1, 4}), false}}) {
        SCOPED_TRACE(c.input.shape.str() + (c.training ? " train" : " eval"));
        auto run = makeRun("batch_norm", {}, {c.input}, c.input.shape[0]);
        run.training = c.training;
        EXPECT_LT(gradcheckMaxError(run, 1e-2), 3e-3);
    }
}

TEST(NormFixtures, MatchPyTorch) {
    auto fixtures = loadFixtures("norm");
    ASSERT_GE(fixtures["cases"].size(), 5u);
    for (const auto& c : fixtures["cases"]) expectMatchesFixture(c);
}

Tensor fromJson(const nlohmann::json& j) {
    return Tensor(Shape(j.at("shape").get<std::vector<int64_t>>()),
                  j.at("data").get<std::vector<float>>());
}

// The fixture's weights are PyTorch's after its training step; running_before holds them before.
TEST(NormFixtures, RunningStatisticsUpdateMatchesPyTorch) {
    auto fixtures = loadFixtures("norm");
    int trainingCases = 0;
    for (const auto& fc : fixtures["cases"]) {
        if (!fc.value("training", false)) continue;
        ++trainingCases;
        SCOPED_TRACE(fc.at("name").get<std::string>());
        Params params{{"eps", fc["params"]["eps"].get<double>()},
                      {"momentum", fc["params"]["momentum"].get<double>()}};
        Tensor x = fromJson(fc["inputs"][0]);
        auto run = makeRun("batch_norm", params, {{x.shape, DType::Float32}}, x.shape[0]);
        run.inputs[0] = x;
        run.weights[0] = fromJson(fc["weights"]["weight"]);
        run.weights[1] = fromJson(fc["weights"]["bias"]);
        run.weights[2] = fromJson(fc["running_before"]["running_mean"]);
        run.weights[3] = fromJson(fc["running_before"]["running_var"]);
        const Tensor wantMean = fromJson(fc["weights"]["running_mean"]);
        const Tensor wantVar = fromJson(fc["weights"]["running_var"]);
        ASSERT_NE(run.weights[2], wantMean) << "the fixture's step changed nothing";
        forward(run);
        for (int64_t ch = 0; ch < wantMean.numel(); ++ch) {
            EXPECT_NEAR(run.weights[2].data[ch], wantMean.data[ch], 1e-5) << "running_mean " << ch;
            EXPECT_NEAR(run.weights[3].data[ch], wantVar.data[ch], 1e-5) << "running_var " << ch;
        }
    }
    EXPECT_GE(trainingCases, 3);
}

}  // namespace
}  // namespace strata::test

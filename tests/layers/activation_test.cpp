#include <gtest/gtest.h>

#include <cmath>

#include "layers/harness.h"

namespace strata::test {
namespace {

const TensorType kSeq{Shape{2, 3, 4}, DType::Float32};  // (N, T, D)

struct ShapeCase {
    const char* type;
    Params params;
    TensorType input;
    const char* error;  // nullptr: accepted with the input's shape
};

TEST(ActivationShapes, KeepTheShapeAndRefuseWhatCannotWork) {
    const std::vector<ShapeCase> table = {
        {"relu", {}, kSeq, nullptr},
        {"leaky_relu", {}, kSeq, nullptr},
        {"gelu", {{"approximate", std::string("tanh")}}, kSeq, nullptr},
        {"sigmoid", {}, {Shape{4, 10}, DType::Float32}, nullptr},
        {"tanh", {}, {Shape{4, 3, 8, 8}, DType::Float32}, nullptr},
        {"softmax", {}, kSeq, nullptr},
        {"softmax", {{"dim", int64_t{1}}}, kSeq, nullptr},
        {"softmax", {{"dim", int64_t{-2}}}, kSeq, nullptr},
        {"relu", {}, {Shape{2, 3}, DType::Int32},
         "expects float input but 'src0' gives (N, 3) of integers"},
        {"leaky_relu", {}, {Shape{2, 3}, DType::Int32}, "of integers"},
        {"gelu", {}, {Shape{2, 3}, DType::Int32}, "of integers"},
        {"sigmoid", {}, {Shape{2, 3}, DType::Int32}, "of integers"},
        {"tanh", {}, {Shape{2, 3}, DType::Int32}, "of integers"},
        {"softmax", {}, {Shape{2, 3}, DType::Int32}, "of integers"},
        {"softmax", {{"dim", int64_t{3}}}, kSeq,
         "has dim 3 but the input has 3 dimensions: 'src0' gives (N, 3, 4)"},
        {"softmax", {{"dim", int64_t{-4}}}, kSeq, "has dim -4 but the input has 3 dimensions"},
        {"softmax", {{"dim", int64_t{0}}}, kSeq,
         "cannot take softmax over the batch dimension (dim 0)"},
        {"softmax", {{"dim", int64_t{-3}}}, kSeq, "over the batch dimension (dim -3)"},
    };
    for (const auto& tc : table) {
        SCOPED_TRACE(std::string(tc.type) + " " + tc.input.shape.str());
        auto info = inferConcrete(tc.type, tc.params, {tc.input});
        if (!tc.error) {
            ASSERT_TRUE(info.ok()) << info.message();
            std::vector<int64_t> want = tc.input.shape.dims();
            want[0] = Shape::kBatch;
            EXPECT_EQ(info->outputs[0].shape.str(), Shape(want).str());
            EXPECT_EQ(info->outputs[0].dtype, DType::Float32);
            EXPECT_GE(info->flops, tc.input.shape.numel() / tc.input.shape[0]);
        } else {
            ASSERT_FALSE(info.ok());
            EXPECT_NE(info.message().find(tc.error), std::string::npos) << info.message();
        }
    }
}

TEST(ActivationParams, FollowTheCatalogue) {
    EXPECT_EQ(std::get<double>(findLayer("leaky_relu")->param("negative_slope")->def), 0.01);
    EXPECT_EQ(std::get<std::string>(findLayer("gelu")->param("approximate")->def), "none");
    EXPECT_FALSE(findLayer("gelu")->checkParams({{"approximate", std::string("erf")}}).ok());
    EXPECT_EQ(std::get<int64_t>(findLayer("softmax")->param("dim")->def), -1);
}

TEST(LeakyRelu, BackwardMatchesFiniteDifferences) {
    auto run = makeRun("leaky_relu", {{"negative_slope", 0.2}}, {kSeq}, 2);
    keepAwayFromKinks(run.inputs[0], {0.0f});
    EXPECT_LT(gradcheckMaxError(run, 1e-3), 2e-3);
}

TEST(Gelu, BothFormsMatchFiniteDifferences) {
    for (const char* form : {"none", "tanh"}) {
        SCOPED_TRACE(form);
        auto run = makeRun("gelu", {{"approximate", std::string(form)}}, {kSeq}, 2);
        for (auto& v : run.inputs[0].data) v *= 3;
        EXPECT_LT(gradcheckMaxError(run), 2e-3);
    }
}

TEST(Gelu, TanhFormIsCloseToButNotTheExactForm) {
    auto exact = makeRun("gelu", {}, {{Shape{1, 1}, DType::Float32}}, 1);
    auto approx = makeRun("gelu", {{"approximate", std::string("tanh")}},
                          {{Shape{1, 1}, DType::Float32}}, 1);
    exact.inputs[0].data = approx.inputs[0].data = {-1.5f};
    forward(exact);
    forward(approx);
    // torch.nn.functional.gelu(-1.5) and with approximate="tanh": -0.1002108, -0.1004284
    EXPECT_NEAR(exact.outputs[0].data[0], -0.1002108f, 1e-6);
    EXPECT_NE(exact.outputs[0].data[0], approx.outputs[0].data[0]);
    EXPECT_NEAR(exact.outputs[0].data[0], approx.outputs[0].data[0], 5e-4);
}

TEST(SigmoidAndTanh, BackwardMatchesFiniteDifferences) {
    for (const char* type : {"sigmoid", "tanh"}) {
        SCOPED_TRACE(type);
        auto run = makeRun(type, {}, {kSeq}, 2);
        for (auto& v : run.inputs[0].data) v *= 3;
        EXPECT_LT(gradcheckMaxError(run), 2e-3);
    }
}

TEST(Sigmoid, SaturatesWithoutOverflow) {
    auto run = makeRun("sigmoid", {}, {{Shape{1, 2}, DType::Float32}}, 1);
    run.inputs[0].data = {-500.0f, 500.0f};
    forward(run);
    EXPECT_EQ(run.outputs[0].data[0], 0.0f);
    EXPECT_EQ(run.outputs[0].data[1], 1.0f);
}

TEST(Softmax, RowsSumToOneAlongTheChosenDim) {
    for (int64_t dim : {1, 2, -1}) {
        SCOPED_TRACE(dim);
        auto run = makeRun("softmax", {{"dim", dim}}, {kSeq}, 2);
        run.inputs[0].data[0] = 80.0f;  // large logits must not overflow
        forward(run);
        const int64_t d = dim < 0 ? dim + 3 : dim;
        const int64_t len = d == 1 ? 3 : 4, stride = d == 1 ? 4 : 1;
        const int64_t outerStep = 12;
        for (int64_t n = 0; n < 2; ++n) {
            for (int64_t other = 0; other < (d == 1 ? 4 : 3); ++other) {
                const int64_t base = n * outerStep + (d == 1 ? other : other * 4);
                double s = 0;
                for (int64_t k = 0; k < len; ++k) s += run.outputs[0].data[base + k * stride];
                EXPECT_NEAR(s, 1.0, 1e-6);
            }
        }
    }
}

TEST(Softmax, BackwardMatchesFiniteDifferences) {
    for (int64_t dim : {1, -1}) {
        SCOPED_TRACE(dim);
        auto run = makeRun("softmax", {{"dim", dim}}, {kSeq}, 2);
        EXPECT_LT(gradcheckMaxError(run), 2e-3);
    }
}

TEST(ActivationFixtures, MatchPyTorch) {
    auto fixtures = loadFixtures("activation");
    ASSERT_GE(fixtures["cases"].size(), 10u);
    for (const auto& c : fixtures["cases"]) expectMatchesFixture(c);
}

}  // namespace
}  // namespace strata::test

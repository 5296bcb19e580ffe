#include <gtest/gtest.h>

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
    auto run = makeRun("linear", {{"out_features", int64_t{5}}}, {{Shape{3, 7}, DType::Float32}}, 3);
    EXPECT_LT(gradcheckMaxError(run), 2e-3);
}

TEST(Flatten, BackwardMatchesFiniteDifferences) {
    auto run = makeRun("flatten", {}, {{Shape{2, 3, 2, 2}, DType::Float32}}, 2);
    EXPECT_EQ(run.info.outputs[0].shape, (Shape{Shape::kBatch, 12}));
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

// builtin:random, the benchmarks' data (bench/workloads.md): each field from its distribution,
// next-token targets that really are the next token, the same numbers for the same seed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/data/open_dataset.h"
#include "data_test_util.h"

namespace strata {
namespace {

using testdata::all;

Result<std::shared_ptr<Dataset>> openRandom(const nlohmann::json& options) {
    DatasetBinding b{.source = "builtin:random", .format = "builtin", .options = options};
    return openDataset(b, ".");
}

nlohmann::json tokenOptions(uint64_t seed) {
    return {{"count", 40},
            {"seed", seed},
            {"fields",
             {{"x", {{"shape", {9}}, {"dtype", "int32"}, {"distribution", "uniform_int"},
                     {"low", 0}, {"high", 7}}},
              {"y", {{"shape", {9}}, {"dtype", "int32"}, {"distribution", "next_token"},
                     {"of", "x"}}}}}};
}

TEST(DataRandom, NextTokenTargetsAreTheWindowShiftedByOne) {
    auto d = openRandom(tokenOptions(1234));
    ASSERT_TRUE(d) << d.message();
    ASSERT_EQ((*d)->size(), 40);
    EXPECT_EQ((*d)->field("x")->dtype, DType::Int32);
    EXPECT_EQ((*d)->field("y")->numClasses, 7);
    const auto x = all(**d, "x"), y = all(**d, "y");
    std::vector<int> seen(7, 0);
    for (int64_t i = 0; i < 40; ++i) {
        for (int64_t t = 0; t + 1 < 9; ++t) {
            ASSERT_EQ(y[size_t(i * 9 + t)], x[size_t(i * 9 + t + 1)]) << i << " " << t;
        }
        for (int64_t t = 0; t < 9; ++t) seen[size_t(x[size_t(i * 9 + t)])]++;
    }
    for (int c : seen) EXPECT_GT(c, 20) << "every token id appears";  // 360 draws of 7 ids
}

TEST(DataRandom, TheSeedNamesTheData) {
    const auto a = all(**openRandom(tokenOptions(5)), "y");
    EXPECT_EQ(all(**openRandom(tokenOptions(5)), "y"), a);
    EXPECT_NE(all(**openRandom(tokenOptions(6)), "y"), a);
}

TEST(DataRandom, NormalFieldsHaveTheirMeanAndSpread) {
    auto d = openRandom({{"count", 500},
                         {"seed", 1234},
                         {"fields",
                          {{"x", {{"shape", {1, 10, 10}}, {"distribution", "normal"},
                                  {"mean", 2.0}, {"std", 0.5}}},
                           {"y", {{"shape", nlohmann::json::array()}, {"dtype", "int32"},
                                  {"distribution", "uniform_int"}, {"low", 0},
                                  {"high", 10}}}}}});
    ASSERT_TRUE(d) << d.message();
    EXPECT_EQ((*d)->field("x")->shape, (std::vector<int64_t>{1, 10, 10}));
    const auto x = all(**d, "x");
    double sum = 0, sq = 0;
    for (float v : x) sum += v;
    const double mean = sum / double(x.size());
    for (float v : x) sq += (v - mean) * (v - mean);
    EXPECT_NEAR(mean, 2.0, 0.01);
    EXPECT_NEAR(std::sqrt(sq / double(x.size())), 0.5, 0.01);
    const auto y = all(**d, "y");
    EXPECT_EQ(*std::min_element(y.begin(), y.end()), 0.0f);
    EXPECT_EQ(*std::max_element(y.begin(), y.end()), 9.0f);
}

TEST(DataRandom, MistakesAreRefusedWithTheFieldNamed) {
    auto bad = openRandom({{"fields", {{"x", {{"distribution", "poisson"}}}}}});
    ASSERT_FALSE(bad);
    EXPECT_CONTAINS(bad.message(), "field \"x\"");
    EXPECT_CONTAINS(bad.message(), "poisson");
    auto orphan = openRandom({{"fields", {{"y", {{"shape", {4}}, {"dtype", "int32"},
                                                 {"distribution", "next_token"},
                                                 {"of", "x"}}}}}});
    ASSERT_FALSE(orphan);
    EXPECT_CONTAINS(orphan.message(), "\"of\" must name a uniform_int field");
    auto none = openRandom({{"count", 3}});
    ASSERT_FALSE(none);
    EXPECT_CONTAINS(none.message(), "needs \"fields\"");
}

}  // namespace
}  // namespace strata

// Splits, the per-epoch order and normalisation statistics from the training split only.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "core/data/annotated_dataset.h"
#include "core/data/open_dataset.h"
#include "core/data/split.h"
#include "data_test_util.h"

namespace strata {
namespace {

using testdata::all;
using testdata::freshDir;
using testdata::writeText;

// n samples whose field "id" is the sample's index and "x" (2) = (index, 1000 - index).
std::shared_ptr<Dataset> numbered(int64_t n) {
    Tensor id{Shape{n}}, x{Shape{n, 2}};
    for (int64_t i = 0; i < n; ++i) {
        id.data[static_cast<size_t>(i)] = static_cast<float>(i);
        x.data[static_cast<size_t>(2 * i)] = static_cast<float>(i);
        x.data[static_cast<size_t>(2 * i + 1)] = static_cast<float>(1000 - i);
    }
    auto d = AnnotatedDataset::create({{"id", id}, {"x", x}}, {{"id", DType::Int32}});
    EXPECT_TRUE(d) << d.message();
    return *d;
}

std::vector<float> ids(const Dataset& d) { return all(d, "id"); }

TEST(DataSplit, FractionsAreHonouredAndPartsAreDisjoint) {
    auto s = splitDataset(numbered(1000), 0.2, 0.1, 7);
    ASSERT_TRUE(s) << s.message();
    EXPECT_EQ(s->train->size(), 700);
    EXPECT_EQ(s->validation->size(), 200);
    EXPECT_EQ(s->test->size(), 100);
    std::set<float> seen;
    for (const auto& part : {s->train, s->validation, s->test}) {
        for (float v : ids(*part)) EXPECT_TRUE(seen.insert(v).second) << "sample " << v << " twice";
    }
    EXPECT_EQ(seen.size(), 1000u);
    // Random, not the last 200 samples.
    auto val = ids(*s->validation);
    EXPECT_LT(*std::min_element(val.begin(), val.end()), 100.0f);
    EXPECT_GT(*std::max_element(val.begin(), val.end()), 900.0f);
}

TEST(DataSplit, TheSeedDecidesTheSplit) {
    auto all1 = numbered(500);
    auto a = splitDataset(all1, 0.2, 0.0, 7);
    auto b = splitDataset(all1, 0.2, 0.0, 7);
    auto c = splitDataset(all1, 0.2, 0.0, 8);
    ASSERT_TRUE(a && b && c);
    EXPECT_EQ(ids(*a->validation), ids(*b->validation));
    EXPECT_NE(ids(*a->validation), ids(*c->validation));
    EXPECT_EQ(a->test->size(), 0);
}

TEST(DataSplit, RefusesFractionsThatLeaveNoTraining) {
    auto s = splitDataset(numbered(10), 0.6, 0.5, 0);
    ASSERT_FALSE(s);
    EXPECT_CONTAINS(s.message(), "none is left for training");
    s = splitDataset(numbered(10), -0.1, 0.0, 0);
    ASSERT_FALSE(s);
    EXPECT_CONTAINS(s.message(), "validation fraction");
}

TEST(DataSplit, EpochOrderIsAReproduciblePermutation) {
    auto e0 = epochOrder(100, 42, 0);
    auto e1 = epochOrder(100, 42, 1);
    std::vector<int64_t> sorted = e0;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int64_t> want(100);
    std::iota(want.begin(), want.end(), 0);
    EXPECT_EQ(sorted, want);
    EXPECT_EQ(epochOrder(100, 42, 0), e0);
    EXPECT_NE(e0, e1);
    EXPECT_NE(epochOrder(100, 43, 0), e0);
    EXPECT_NE(e0, want);
}

TEST(DataSplit, NormalisationComesFromTheTrainingSplitOnly) {
    auto s = splitDataset(numbered(1000), 0.3, 0.0, 5);
    ASSERT_TRUE(s);
    auto norm = computeNormalization(*s->train, "x");
    ASSERT_TRUE(norm) << norm.message();
    ASSERT_EQ(norm->mean.size(), 2u);  // per feature
    // Statistics of exactly the training samples.
    auto trainIds = ids(*s->train);
    double mean = 0, var = 0;
    for (float v : trainIds) mean += v / trainIds.size();
    for (float v : trainIds) var += (v - mean) * (v - mean) / trainIds.size();
    EXPECT_NEAR(norm->mean[0], mean, 1e-3);
    EXPECT_NEAR(norm->mean[1], 1000 - mean, 1e-3);
    EXPECT_NEAR(norm->std[0], std::sqrt(var), 1e-3);
    auto whole = computeNormalization(*numbered(1000), "x");
    EXPECT_NE(norm->mean[0], whole->mean[0]);

    // Applied to a training batch: mean 0 and std 1 per feature.
    auto info = *s->train->field("x");
    auto batch = all(*s->train, "x");
    normalizeBatch(*norm, info, batch.data(), s->train->size());
    double m0 = 0, v0 = 0;
    const auto n = static_cast<double>(s->train->size());
    for (int64_t i = 0; i < s->train->size(); ++i) m0 += batch[static_cast<size_t>(2 * i)] / n;
    for (int64_t i = 0; i < s->train->size(); ++i) {
        v0 += std::pow(batch[static_cast<size_t>(2 * i)] - m0, 2) / n;
    }
    EXPECT_NEAR(m0, 0.0, 1e-4);
    EXPECT_NEAR(v0, 1.0, 1e-3);

    auto refused = computeNormalization(*s->train, "id");
    ASSERT_FALSE(refused);
    EXPECT_CONTAINS(refused.message(), "ids");
}

TEST(DataSplit, ImagesAreNormalisedPerChannel) {
    // (2, 2, 2) images: channel 0 around 10, channel 1 around -3 with a larger spread.
    const int64_t n = 50;
    Tensor image{Shape{n, 2, 2, 2}};
    for (int64_t i = 0; i < n; ++i) {
        for (int k = 0; k < 4; ++k) {
            image.data[static_cast<size_t>(i * 8 + k)] = 10.0f + static_cast<float>((i + k) % 3);
            image.data[static_cast<size_t>(i * 8 + 4 + k)] = -3.0f + 4.0f * ((i * k) % 2);
        }
    }
    auto d = AnnotatedDataset::create({{"image", image}}, {});
    ASSERT_TRUE(d);
    auto norm = computeNormalization(**d, "image");
    ASSERT_TRUE(norm) << norm.message();
    ASSERT_EQ(norm->mean.size(), 2u);
    EXPECT_NEAR(norm->mean[0], 11.0, 0.05);
    EXPECT_GT(norm->std[1], norm->std[0]);
    auto px = all(**d, "image");
    normalizeBatch(*norm, *(*d)->field("image"), px.data(), n);
    for (int c = 0; c < 2; ++c) {
        double m = 0;
        for (int64_t i = 0; i < n; ++i) {
            for (int k = 0; k < 4; ++k) m += px[static_cast<size_t>(i * 8 + c * 4 + k)] / (4.0 * n);
        }
        EXPECT_NEAR(m, 0.0, 1e-4) << "channel " << c;
    }
}

TEST(DataSplit, SeparateValidationFileKeepsTheClassNumbering) {
    auto dir = freshDir();
    writeText(dir / "train.csv", "a,b,kind\n1,2,cat\n3,4,dog\n5,6,emu\n7,8,cat\n");
    writeText(dir / "val.csv", "a,b,kind\n1,1,emu\n2,2,emu\n");
    DatasetBinding b{.source = "train.csv",
                     .format = "csv",
                     .options = {{"validation_source", "val.csv"}},
                     .validationFraction = 0.5};
    auto s = openSplits(b, dir);
    ASSERT_TRUE(s) << s.message();
    EXPECT_EQ(s->train->size(), 4);  // the fraction does not apply with a validation file
    EXPECT_EQ(s->validation->size(), 2);
    EXPECT_EQ(all(*s->validation, "label"), (std::vector<float>{2, 2}));  // emu is class 2

    writeText(dir / "wide.csv", "a,b,c,kind\n1,1,1,emu\n");
    b.options["validation_source"] = "wide.csv";
    s = openSplits(b, dir);
    ASSERT_FALSE(s);
    EXPECT_CONTAINS(s.message(), "validation file wide.csv gives 'x' as (N, 3)");
}

TEST(DataSplit, SplitsKeepTheVocabulary) {
    auto dir = freshDir();
    writeText(dir / "c.txt", "the quick brown fox jumps over the lazy dog, again and again.");
    DatasetBinding b{.source = "c.txt", .format = "text", .options = {{"window", 8}},
                     .validationFraction = 0.25, .splitSeed = 1};
    auto s = openSplits(b, dir);
    ASSERT_TRUE(s) << s.message();
    auto vocab = datasetVocabulary(*s->train);
    EXPECT_EQ(vocab.size(), 29u);  // 26 letters (a pangram), space, comma, full stop
    EXPECT_EQ(datasetPreprocessing(*s->validation).vocabulary, vocab);
}

}  // namespace
}  // namespace strata

// The built-in sets: the real digits, their 32x32 version, the generated sets and token tasks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/data/builtin.h"
#include "core/data/open_dataset.h"
#include "data_test_util.h"

namespace strata {
namespace {

using testdata::all;

const std::filesystem::path kSamples = std::filesystem::path(STRATA_SOURCE_DIR) / "samples";

std::shared_ptr<Dataset> open(const std::string& name, nlohmann::json options = {}) {
    DatasetBinding b{.source = "builtin:" + name, .format = "builtin",
                     .options = options.is_null() ? nlohmann::json::object() : options};
    auto d = openDataset(b, kSamples / "digits-cnn");
    EXPECT_TRUE(d) << d.message();
    return d ? *d : nullptr;
}

// The first line of digits.csv.gz, read independently of the data module.
std::vector<int> firstDigitsRow() {
    gzFile f = gzopen((kSamples / "data" / "digits.csv.gz").string().c_str(), "rb");
    EXPECT_NE(f, nullptr);
    char buf[1024] = {};
    gzgets(f, buf, sizeof buf);
    gzclose(f);
    std::vector<int> v;
    std::stringstream ss(buf);
    for (std::string cell; std::getline(ss, cell, ',');) v.push_back(std::stoi(cell));
    return v;
}

TEST(DataBuiltin, DigitsAreTheRealDigits) {
    auto d = open("digits");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->size(), 1797);
    EXPECT_EQ(d->field("image")->shape, (std::vector<int64_t>{1, 8, 8}));
    EXPECT_EQ(d->field("label")->numClasses, 10);
    EXPECT_EQ(d->classNames().size(), 10u);
    auto px = all(*d, "image");
    EXPECT_EQ(*std::min_element(px.begin(), px.end()), 0.0f);
    EXPECT_EQ(*std::max_element(px.begin(), px.end()), 1.0f);
    auto labels = all(*d, "label");
    std::vector<int> perClass(10, 0);
    for (float l : labels) perClass[static_cast<size_t>(l)]++;
    for (int c : perClass) EXPECT_GT(c, 170);  // every digit about a tenth

    auto row = firstDigitsRow();
    ASSERT_EQ(row.size(), 65u);
    for (size_t i = 0; i < 64; ++i) EXPECT_FLOAT_EQ(px[i], row[i] / 16.0f) << "pixel " << i;
    EXPECT_EQ(labels[0], static_cast<float>(row[64]));
}

TEST(DataBuiltin, DigitsAreFoundThroughStrataDataDir) {
    // A document far from the sources still finds the digits through STRATA_DATA_DIR.
    setenv("STRATA_DATA_DIR", (kSamples / "data").string().c_str(), 1);
    auto d = openBuiltin("digits", nlohmann::json::object(), "/nonexistent/project");
    unsetenv("STRATA_DATA_DIR");
    ASSERT_TRUE(d) << d.message();
    EXPECT_EQ((*d)->size(), 1797);
}

TEST(DataBuiltin, Digits32IsTheSameDigitsEnlarged) {
    auto small = open("digits");
    auto big = open("digits32");
    ASSERT_TRUE(small && big);
    EXPECT_EQ(big->size(), 1797);
    EXPECT_EQ(big->field("image")->shape, (std::vector<int64_t>{1, 32, 32}));
    EXPECT_EQ(all(*big, "label"), all(*small, "label"));
    auto a = all(*small, "image");
    auto b = all(*big, "image");
    // Each 4x4 block of the enlarged image averages close to its source pixel's neighbourhood;
    // the means over the whole first image agree closely.
    double ma = 0, mb = 0;
    for (int i = 0; i < 64; ++i) ma += a[static_cast<size_t>(i)] / 64.0;
    for (int i = 0; i < 1024; ++i) mb += b[static_cast<size_t>(i)] / 1024.0;
    EXPECT_NEAR(ma, mb, 0.03);
    // The centre of the 4x4 block of source pixel (3, 3) sits between source pixels: its value
    // lies between its four neighbours'.
    const float v = b[static_cast<size_t>(14 * 32 + 14)];
    const float lo = std::min({a[27], a[28], a[35], a[36]});
    const float hi = std::max({a[27], a[28], a[35], a[36]});
    EXPECT_GE(v, lo - 1e-6f);
    EXPECT_LE(v, hi + 1e-6f);
    EXPECT_GE(*std::min_element(b.begin(), b.end()), 0.0f);
    EXPECT_LE(*std::max_element(b.begin(), b.end()), 1.0f);
}

TEST(DataBuiltin, ShapesAreBalancedImagesFromTheSeed) {
    auto d = open("shapes", {{"count", 200}, {"seed", 3}});
    ASSERT_TRUE(d);
    EXPECT_EQ(d->size(), 200);
    EXPECT_EQ(d->field("image")->shape, (std::vector<int64_t>{3, 32, 32}));
    EXPECT_EQ(d->classNames().size(), 10u);
    std::vector<int> perClass(10, 0);
    for (float l : all(*d, "label")) perClass[static_cast<size_t>(l)]++;
    for (int c : perClass) EXPECT_EQ(c, 20);
    auto px = all(*d, "image");
    EXPECT_GE(*std::min_element(px.begin(), px.end()), 0.0f);
    EXPECT_LE(*std::max_element(px.begin(), px.end()), 1.0f);

    auto again = open("shapes", {{"count", 200}, {"seed", 3}});
    auto other = open("shapes", {{"count", 200}, {"seed", 4}});
    EXPECT_EQ(all(*again, "image"), px);
    EXPECT_NE(all(*other, "image"), px);
    EXPECT_EQ(open("shapes")->size(), 3000);
}

TEST(DataBuiltin, TokenTasksHaveCorrectTargets) {
    for (const std::string task : {"reverse", "sort", "copy"}) {
        auto d = open(task, {{"count", 50}});
        ASSERT_TRUE(d);
        EXPECT_EQ(d->field("tokens")->shape, (std::vector<int64_t>{16}));
        EXPECT_EQ(d->field("target")->numClasses, 16);
        EXPECT_EQ(datasetVocabulary(*d).size(), 16u);
        auto tokens = all(*d, "tokens");
        auto target = all(*d, "target");
        for (int64_t i = 0; i < 50; ++i) {
            std::vector<float> in(tokens.begin() + i * 16, tokens.begin() + (i + 1) * 16);
            std::vector<float> out(target.begin() + i * 16, target.begin() + (i + 1) * 16);
            for (float t : in) {
                EXPECT_GE(t, 1.0f);  // 0 is padding
                EXPECT_LT(t, 16.0f);
            }
            std::vector<float> want = in;
            if (task == "reverse") std::reverse(want.begin(), want.end());
            if (task == "sort") std::sort(want.begin(), want.end());
            ASSERT_EQ(out, want) << task << " sample " << i;
        }
    }
    auto longer = open("reverse", {{"length", 8}, {"vocabulary_size", 10}, {"count", 5}});
    EXPECT_EQ(longer->field("tokens")->shape, (std::vector<int64_t>{8}));
    EXPECT_EQ(longer->field("tokens")->numClasses, 10);
}

TEST(DataBuiltin, SineTargetIsTheNextStep) {
    auto d = open("sine", {{"count", 30}});
    ASSERT_TRUE(d);
    EXPECT_EQ(d->field("x")->shape, (std::vector<int64_t>{20, 10}));
    EXPECT_EQ(d->field("target")->shape, (std::vector<int64_t>{10}));
    auto x = all(*d, "x");
    auto y = all(*d, "target");
    // A sampled sine obeys s[t+1] = k s[t] - s[t-1] with k = 2 cos(omega); fit k on the
    // sequence and extrapolate one step.
    for (int64_t i = 0; i < 30; ++i) {
        for (int64_t c = 0; c < 10; ++c) {
            auto s = [&](int64_t t) {
                return double(x[static_cast<size_t>((i * 20 + t) * 10 + c)]);
            };
            double num = 0, den = 0;
            for (int64_t t = 1; t < 19; ++t) {
                num += (s(t + 1) + s(t - 1)) * s(t);
                den += s(t) * s(t);
            }
            const double predicted = num / den * s(19) - s(18);
            EXPECT_NEAR(predicted, y[static_cast<size_t>(i * 10 + c)], 1e-3);
        }
    }
}

TEST(DataBuiltin, RegressionIsAFixedFunctionOfX) {
    auto a = open("regression", {{"count", 400}, {"seed", 1}});
    auto b = open("regression", {{"count", 400}, {"seed", 2}});
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->field("x")->shape, (std::vector<int64_t>{10}));
    EXPECT_EQ(a->field("target")->shape, (std::vector<int64_t>{10}));
    auto xa = all(*a, "x");
    EXPECT_NE(xa, all(*b, "x"));
    double mean = 0, var = 0;
    for (float v : xa) mean += v / xa.size();
    for (float v : xa) var += (v - mean) * (v - mean) / xa.size();
    EXPECT_NEAR(mean, 0.0, 0.05);
    EXPECT_NEAR(var, 1.0, 0.08);
    // One function for every seed: a straight line fitted on one set explains most of the other
    // set's target (the rest is the mild nonlinearity and the noise).
    auto ta = all(*a, "target");
    auto xb = all(*b, "x");
    auto tb = all(*b, "target");
    for (int64_t out : {0, 7}) {
        // Normal equations for target[out] ~ w . [x, 1], solved by Gaussian elimination.
        double m[11][12] = {};
        for (int64_t i = 0; i < 400; ++i) {
            double row[11];
            for (int j = 0; j < 10; ++j) row[j] = xa[static_cast<size_t>(i * 10 + j)];
            row[10] = 1.0;
            for (int r = 0; r < 11; ++r) {
                for (int c = 0; c < 11; ++c) m[r][c] += row[r] * row[c];
                m[r][11] += row[r] * ta[static_cast<size_t>(i * 10 + out)];
            }
        }
        for (int p = 0; p < 11; ++p) {
            for (int r = p + 1; r < 11; ++r) {
                const double f = m[r][p] / m[p][p];
                for (int c = p; c < 12; ++c) m[r][c] -= f * m[p][c];
            }
        }
        double w[11];
        for (int p = 10; p >= 0; --p) {
            double acc = m[p][11];
            for (int c = p + 1; c < 11; ++c) acc -= m[p][c] * w[c];
            w[p] = acc / m[p][p];
        }
        double ssRes = 0, ssTot = 0, mean = 0;
        for (int64_t i = 0; i < 400; ++i) mean += tb[static_cast<size_t>(i * 10 + out)] / 400.0;
        for (int64_t i = 0; i < 400; ++i) {
            double pred = w[10];
            for (int j = 0; j < 10; ++j) pred += w[j] * xb[static_cast<size_t>(i * 10 + j)];
            const double t = tb[static_cast<size_t>(i * 10 + out)];
            ssRes += (t - pred) * (t - pred);
            ssTot += (t - mean) * (t - mean);
        }
        EXPECT_GT(1.0 - ssRes / ssTot, 0.85) << "output " << out;
        EXPECT_LT(1.0 - ssRes / ssTot, 0.999) << "output " << out << " is purely linear";
    }
}

TEST(DataBuiltin, UnknownNamesAndBadOptionsAreRefused) {
    DatasetBinding b{.source = "builtin:mnist", .format = "builtin"};
    auto d = openDataset(b, {});
    ASSERT_FALSE(d);
    EXPECT_CONTAINS(d.message(), "no built-in dataset named \"mnist\"");
    EXPECT_CONTAINS(d.message(), "digits, digits32, shapes");

    b = {.source = "builtin:shapes", .format = "builtin", .options = {{"count", "many"}}};
    d = openDataset(b, {});
    ASSERT_FALSE(d);
    EXPECT_CONTAINS(d.message(), "option 'count'");

    b = {.source = "builtin:reverse", .format = "builtin", .options = {{"count", -5}}};
    d = openDataset(b, {});
    ASSERT_FALSE(d);
    EXPECT_CONTAINS(d.message(), "must lie in");
}

}  // namespace
}  // namespace strata

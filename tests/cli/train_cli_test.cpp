// `strata train` as a user runs it: a short real training run of the digits sample on the CPU,
// its --json event stream, the exported document, and refusals of bad data bindings.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/cli_helpers.h"
#include "core/io/document.h"

namespace {

using namespace strata::test;
const fs::path kDigits = kSource / "samples/digits-cnn/digits-cnn.strata.json";

TEST(TrainCli, ShortDigitsRunLearnsAndExportsAModelThatReloads) {
    TempDir tmp;
    const fs::path model = tmp.path() / "digits.trained.strata.json";
    Outcome r = runStrata("train " + quoted(kDigits.string()) +
                           " --device cpu --epochs 3 --json --out " + quoted(model.string()) +
                           " --checkpoint-dir " + quoted((tmp.path() / "ckpt").string()),
                       tmp.path());
    ASSERT_EQ(r.code, 0) << r.err;

    // Every stdout line is one JSON event; epochs are numbered from 1 and the run ends with done.
    std::istringstream lines(r.out);
    std::string line;
    int steps = 0;
    std::vector<nlohmann::json> epochs;
    nlohmann::json done;
    while (std::getline(lines, line)) {
        nlohmann::json e = nlohmann::json::parse(line, nullptr, false);
        ASSERT_FALSE(e.is_discarded()) << "not JSON: " << line;
        ASSERT_TRUE(e.contains("event")) << line;
        if (e["event"] == "step") ++steps;
        if (e["event"] == "epoch") epochs.push_back(e);
        if (e["event"] == "done") done = e;
    }
    EXPECT_GT(steps, 0);
    ASSERT_EQ(epochs.size(), 3u) << r.out;
    EXPECT_EQ(epochs[0]["epoch"], 1);
    EXPECT_EQ(epochs[2]["epoch"], 3);
    ASSERT_TRUE(epochs[2]["val_accuracy"].is_number()) << epochs[2].dump();
    // Three epochs of the sample's settings reach 93.6% on the 359 held-out digits.
    EXPECT_GE(epochs[2]["val_accuracy"].get<double>(), 0.90) << epochs[2].dump();
    EXPECT_LT(epochs[2]["val_loss"].get<double>(), epochs[0]["train_loss"].get<double>());
    ASSERT_TRUE(done.is_object()) << r.out;
    EXPECT_EQ(done["out"], model.string());
    EXPECT_EQ(done["stopped"], false);

    // The export re-loads with weights, preprocessing and the training record.
    auto doc = strata::readDocument(model);
    ASSERT_TRUE(doc) << doc.message();
    ASSERT_TRUE(doc->weights.has_value());
    EXPECT_FALSE(doc->weights->empty());
    ASSERT_TRUE(doc->preprocessing.has_value());
    ASSERT_EQ(doc->preprocessing->normalization.count("image"), 1u);
    const auto& norm = doc->preprocessing->normalization.at("image");
    ASSERT_EQ(norm.mean.size(), 1u);  // one channel
    EXPECT_GT(norm.mean[0], 0.0f);
    EXPECT_GT(norm.std[0], 0.0f);
    EXPECT_EQ(doc->preprocessing->normalization.count("label"), 0u);  // labels are not scaled
    EXPECT_EQ(doc->preprocessing->classNames.size(), 10u);
    const auto& record = doc->trainingRecord;
    ASSERT_TRUE(record.is_object());
    EXPECT_NE(record["device"].get<std::string>().find("CPU"), std::string::npos);
    EXPECT_EQ(record["epochs"].size(), 3u);
    EXPECT_EQ(record["settings"]["epochs"], 3);
    EXPECT_GT(record["duration_seconds"].get<double>(), 0.0);
    EXPECT_EQ(record["samples"]["validation"], 359);

    // And `strata validate` accepts it.
    Outcome v = runStrata("validate " + quoted(model.string()), tmp.path());
    EXPECT_EQ(v.code, 0) << v.out << v.err;
}

TEST(TrainCli, ABadDataBindingIsRefusedWithASentenceNamingTheFile) {
    TempDir tmp;
    nlohmann::json j = nlohmann::json::parse(slurp(kDigits));
    j["dataset"]["source"] = "missing-digits.csv";
    j["dataset"]["format"] = "csv";
    const fs::path bad = tmp.path() / "bad.strata.json";
    std::ofstream(bad) << j.dump(2);
    Outcome r = runStrata("train " + quoted(bad.string()) + " --device cpu --out " +
                           quoted((tmp.path() / "o.strata.json").string()),
                       tmp.path());
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("missing-digits.csv"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(bad.string()), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(tmp.path() / "o.strata.json"));

    // A field the data lacks is refused before training starts, naming the input and the fix.
    j = nlohmann::json::parse(slurp(kDigits));
    for (auto& n : j["graph"]["nodes"]) {
        if (n["type"] == "input" && n["params"]["field"] == "label") n["params"]["field"] = "y";
    }
    std::ofstream(bad) << j.dump(2);
    r = runStrata("train " + quoted(bad.string()) + " --device cpu --out " +
                   quoted((tmp.path() / "o.strata.json").string()),
               tmp.path());
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("'y'"), std::string::npos) << r.err;
}

TEST(TrainCli, UsageErrors) {
    TempDir tmp;
    EXPECT_EQ(runStrata("train", tmp.path()).code, 2);
    EXPECT_EQ(runStrata("train " + quoted(kDigits.string()) + " --epochs many", tmp.path()).code, 2);
    EXPECT_EQ(runStrata("train " + quoted((tmp.path() / "nope.strata.json").string()), tmp.path())
                  .code,
              3);
}

}  // namespace

// `strata predict` as a user runs it: a model exported by `strata train` predicts exactly what the
// trained weights give in memory, on its validation split and on files (JSON, CSV, IDX, text),
// and inputs that do not fit the model are refused with the file and the reason.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <numeric>

#include <nlohmann/json.hpp>

#include "cli/cli_helpers.h"
#include "core/data/split.h"
#include "core/engine/cpu_backend.h"
#include "core/engine/program.h"
#include "core/io/document.h"
#include "core/train/normalized_dataset.h"
#include "core/train/predict.h"

namespace {

using namespace strata::test;
using strata::Dataset;
using strata::Document;

const fs::path kDigits = kSource / "samples/digits-cnn/digits-cnn.strata.json";
const fs::path kCharLstm = kSource / "samples/char-lstm/char-lstm.strata.json";

// One short training run per sample for the whole suite: the models every test predicts with.
class PredictCli : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_dir = new TempDir();
        s_digits = s_dir->path() / "digits.trained.strata.json";
        Outcome r = runStrata("train " + quoted(kDigits.string()) + " --device cpu --epochs 2 --out " +
                               quoted(s_digits.string()),
                           s_dir->path());
        ASSERT_EQ(r.code, 0) << r.err;
        s_chars = s_dir->path() / "chars.trained.strata.json";
        r = runStrata("train " + quoted(kCharLstm.string()) + " --device cpu --epochs 1 --out " +
                       quoted(s_chars.string()),
                   s_dir->path());
        ASSERT_EQ(r.code, 0) << r.err;
    }
    static void TearDownTestSuite() {
        delete s_dir;
        s_dir = nullptr;
    }
    fs::path scratch() const { return m_tmp.path(); }

    // `strata predict ARGS --out FILE`, parsed.
    nlohmann::json predict(const std::string& args) {
        const fs::path out = scratch() / "predictions.json";
        fs::remove(out);
        Outcome r = runStrata("predict " + args + " --device cpu --out " + quoted(out.string()),
                           scratch());
        EXPECT_EQ(r.code, 0) << r.err;
        nlohmann::json j = nlohmann::json::parse(slurp(out), nullptr, false);
        EXPECT_FALSE(j.is_discarded()) << slurp(out);
        return j;
    }

    static TempDir* s_dir;
    static fs::path s_digits, s_chars;
    TempDir m_tmp;
};

TempDir* PredictCli::s_dir = nullptr;
fs::path PredictCli::s_digits, PredictCli::s_chars;

std::vector<float> outputsOf(const nlohmann::json& sample) {
    std::vector<float> v;
    std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& x) {
        if (x.is_array()) {
            for (const auto& e : x) walk(e);
        } else {
            v.push_back(x.get<float>());
        }
    };
    walk(sample["output"]);
    return v;
}

// The validation logits as the trainer computes them at the end of an epoch, rebuilt in memory
// without the Predictor: the split and the normalisation learned again from the data (not read
// from the export), the training program, the CPU backend, the trainer's batches.
std::vector<float> inMemoryLogits(const Document& doc, std::vector<float>* labels) {
    auto splits = strata::openSplits(*doc.dataset, kDigits.parent_path());
    EXPECT_TRUE(splits) << splits.message();
    auto norm = strata::learnNormalization(doc.graph, *splits->train);
    EXPECT_TRUE(norm) << norm.message();
    auto val = strata::applyNormalization(splits->validation, *norm);
    const int64_t B = doc.training.batchSize;
    auto program = strata::compile(doc.graph, B,
                                   {.training = true, .optimizer = doc.training.optimizer});
    EXPECT_TRUE(program) << program.message();
    strata::CpuBackend backend;
    EXPECT_TRUE(backend.prepare(*program));
    std::vector<float> arena = strata::initialParameters(*program, 0);
    EXPECT_TRUE(strata::loadWeights(*program, *doc.weights, arena));
    EXPECT_TRUE(backend.uploadParameters(arena));
    const auto& lossOp = program->forward[static_cast<size_t>(program->lossOp)];
    std::vector<float> logits, buffer;
    for (int64_t start = 0; start < val->size(); start += B) {
        const int64_t n = std::min(B, val->size() - start);
        std::vector<int64_t> idx(static_cast<size_t>(n));
        std::iota(idx.begin(), idx.end(), start);
        for (const auto& b : program->inputs) {
            buffer.resize(static_cast<size_t>(program->tensor(b.tensor).numelAt(n)));
            val->gather(idx, b.field, buffer.data());
            EXPECT_TRUE(backend.setInput(b.field, buffer, n));
            if (b.field == "label" && labels) labels->insert(labels->end(), buffer.begin(), buffer.end());
        }
        EXPECT_TRUE(backend.runForward({.batch = n}, strata::Mode::Eval));
        auto out = backend.download(lossOp.inputs[0], n);
        EXPECT_TRUE(out);
        logits.insert(logits.end(), out->begin(), out->end());
    }
    return logits;
}

// The raw (unnormalised) images of the first n validation samples, (n, 64), and their labels.
std::pair<std::vector<float>, std::vector<float>> rawValidation(const Document& doc, int64_t n) {
    auto splits = strata::openSplits(*doc.dataset, kDigits.parent_path());
    EXPECT_TRUE(splits) << splits.message();
    std::vector<int64_t> idx(static_cast<size_t>(n));
    std::iota(idx.begin(), idx.end(), int64_t{0});
    std::vector<float> images(static_cast<size_t>(n * 64)), labels(static_cast<size_t>(n));
    splits->validation->gather(idx, "image", images.data());
    splits->validation->gather(idx, "label", labels.data());
    return {images, labels};
}

TEST_F(PredictCli, ExportedModelReproducesTheInMemoryPredictionsExactly) {
    nlohmann::json j = predict(quoted(s_digits.string()));
    auto doc = strata::readDocument(s_digits);
    ASSERT_TRUE(doc) << doc.message();
    std::vector<float> labels;
    const std::vector<float> expected = inMemoryLogits(*doc, &labels);

    EXPECT_EQ(j["model"], "digits-cnn");
    EXPECT_TRUE(contains(j["device"].get<std::string>(), "CPU")) << j["device"];
    EXPECT_EQ(j["output"], "fc.out");
    EXPECT_EQ(j["output_shape"], nlohmann::json::array({10}));
    EXPECT_EQ(j["classes"], 10);
    ASSERT_EQ(j["samples"].size(), 359u);  // the 20% validation split
    ASSERT_EQ(expected.size(), 359u * 10u);
    int64_t differing = 0;
    for (size_t i = 0; i < 359; ++i) {
        const nlohmann::json& s = j["samples"][i];
        const std::vector<float> got = outputsOf(s);
        ASSERT_EQ(got.size(), 10u);
        const float* want = expected.data() + i * 10;
        for (size_t c = 0; c < 10; ++c) {
            differing += std::memcmp(&got[c], &want[c], sizeof(float)) != 0;
        }
        const int64_t best = std::max_element(want, want + 10) - want;
        EXPECT_EQ(s["class"], best) << i;
        EXPECT_EQ(s["label"], static_cast<int64_t>(labels[i])) << i;
        EXPECT_EQ(s["class_name"], std::to_string(best));
        double sum = 0;
        for (size_t c = 0; c < 10; ++c) sum += std::exp(double(want[c]) - double(want[best]));
        EXPECT_NEAR(s["probability"].get<double>(), 1.0 / sum, 1e-6);
    }
    EXPECT_EQ(differing, 0) << "logits differ from the in-memory evaluation (bitwise)";
    // The accuracy is the trainer's own final validation accuracy, to the last bit.
    EXPECT_EQ(j["accuracy"].get<double>(),
              doc->trainingRecord["epochs"].back()["val_accuracy"].get<double>());

    // The library the studio uses gives the same numbers.
    auto p = strata::Predictor::open(s_digits, {.device = "cpu"});
    ASSERT_TRUE(p) << p.message();
    auto data = (*p)->validationData();
    ASSERT_TRUE(data) << data.message();
    // Whole batches: the CPU's last bits depend on how many samples share a batch.
    auto result = (*p)->run(**data, 2 * doc->training.batchSize);
    ASSERT_TRUE(result) << result.message();
    ASSERT_EQ(result->samples.size(), size_t(2 * doc->training.batchSize));
    EXPECT_EQ(result->samples[39].output, outputsOf(j["samples"][39]));
    EXPECT_EQ(result->samples[39].classes.at(0), j["samples"][39]["class"]);
}

TEST_F(PredictCli, JsonAndCsvInputsGiveTheSamePredictionsAsTheValidationSamples) {
    auto doc = strata::readDocument(s_digits);
    ASSERT_TRUE(doc) << doc.message();
    // One full batch, so that the batches are those of the validation run.
    const int64_t n = doc->training.batchSize;
    auto [images, labels] = rawValidation(*doc, n);
    nlohmann::json validation = predict(quoted(s_digits.string()) + " --limit " +
                                        std::to_string(n));
    ASSERT_EQ(validation["samples"].size(), size_t(n));

    // JSON: numbers nested in the sample shape (1, 8, 8).
    nlohmann::json samples = nlohmann::json::array();
    for (int64_t s = 0; s < n; ++s) {
        nlohmann::json rows = nlohmann::json::array();
        for (int64_t y = 0; y < 8; ++y) {
            nlohmann::json row = nlohmann::json::array();
            for (int64_t x = 0; x < 8; ++x) row.push_back(images[size_t(s * 64 + y * 8 + x)]);
            rows.push_back(row);
        }
        samples.push_back(nlohmann::json::array({rows}));
    }
    const fs::path json = scratch() / "digits.json";
    std::ofstream(json) << samples.dump();
    nlohmann::json fromJson = predict(quoted(s_digits.string()) + " --input " +
                                      quoted(json.string()));
    ASSERT_EQ(fromJson["samples"].size(), size_t(n));
    EXPECT_EQ(fromJson["input"]["source"], json.string());
    EXPECT_FALSE(fromJson.contains("accuracy"));  // no labels in the file

    // CSV: 64 features and the label in the last column, as a data set would be written.
    const fs::path csv = scratch() / "digits.csv";
    {
        std::ofstream f(csv);
        for (int64_t s = 0; s < n; ++s) {
            for (int64_t k = 0; k < 64; ++k) f << images[size_t(s * 64 + k)] << ",";
            f << labels[size_t(s)] << "\n";
        }
    }
    nlohmann::json fromCsv = predict(quoted(s_digits.string()) + " --input " +
                                     quoted(csv.string()));
    ASSERT_EQ(fromCsv["samples"].size(), size_t(n));
    EXPECT_EQ(fromCsv["accuracy"], validation["accuracy"]);
    for (int64_t s = 0; s < n; ++s) {
        const auto want = outputsOf(validation["samples"][size_t(s)]);
        EXPECT_EQ(outputsOf(fromJson["samples"][size_t(s)]), want) << "JSON sample " << s;
        EXPECT_EQ(outputsOf(fromCsv["samples"][size_t(s)]), want) << "CSV sample " << s;
        EXPECT_EQ(fromCsv["samples"][size_t(s)]["label"], int64_t(labels[size_t(s)]));
    }
}

void writeIdx(const fs::path& path, const std::vector<uint8_t>& header,
              const std::vector<uint8_t>& body) {
    gzFile f = gzopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    gzwrite(f, header.data(), unsigned(header.size()));
    gzwrite(f, body.data(), unsigned(body.size()));
    gzclose(f);
}

TEST_F(PredictCli, IdxImagesAndTheirLabelsArePredicted) {
    auto doc = strata::readDocument(s_digits);
    ASSERT_TRUE(doc) << doc.message();
    const int64_t n = 64;
    auto [images, labels] = rawValidation(*doc, n);
    std::vector<uint8_t> pixels, ids;
    for (float v : images) pixels.push_back(uint8_t(std::lround(v * 255.0f)));
    for (float v : labels) ids.push_back(uint8_t(v));
    const fs::path file = scratch() / "t10k-images-idx3-ubyte.gz";
    writeIdx(file, {0, 0, 8, 3, 0, 0, 0, uint8_t(n), 0, 0, 0, 8, 0, 0, 0, 8}, pixels);
    writeIdx(scratch() / "t10k-labels-idx1-ubyte.gz", {0, 0, 8, 1, 0, 0, 0, uint8_t(n)}, ids);

    nlohmann::json j = predict(quoted(s_digits.string()) + " --input " + quoted(file.string()));
    ASSERT_EQ(j["samples"].size(), size_t(n));
    nlohmann::json validation = predict(quoted(s_digits.string()) + " --limit 64");
    // 8-bit pixels are the digits up to rounding: the same classes, the labels read beside.
    int64_t same = 0;
    for (int64_t s = 0; s < n; ++s) {
        EXPECT_EQ(j["samples"][size_t(s)]["label"], int64_t(labels[size_t(s)]));
        same += j["samples"][size_t(s)]["class"] == validation["samples"][size_t(s)]["class"];
    }
    EXPECT_GE(same, n - 2);
    EXPECT_NEAR(j["accuracy"].get<double>(), validation["accuracy"].get<double>(), 0.05);
}

TEST_F(PredictCli, TextIsEncodedWithTheStoredVocabulary) {
    auto doc = strata::readDocument(s_chars);
    ASSERT_TRUE(doc) << doc.message();
    const auto& vocab = doc->preprocessing->vocabulary;
    ASSERT_FALSE(vocab.empty());
    // 70 characters of the corpus: two windows of 64, the second one ending with the text.
    const std::string corpus = slurp(kSource / "samples/data/tiny_corpus.txt");
    const std::string text = corpus.substr(0, 70);
    const fs::path txt = scratch() / "prompt.txt";
    std::ofstream(txt) << text;
    nlohmann::json j = predict(quoted(s_chars.string()) + " --input " + quoted(txt.string()));
    ASSERT_EQ(j["samples"].size(), 2u);
    EXPECT_EQ(j["output_shape"], nlohmann::json::array({64, 65}));  // the sample's fc
    EXPECT_EQ(j["samples"][0]["class"].size(), 64u);
    EXPECT_EQ(j["samples"][0]["probability"].size(), 64u);
    EXPECT_TRUE(j["samples"][0]["text"].is_string());

    // The same windows as token ids in JSON give the same outputs: the text was encoded right.
    nlohmann::json windows = nlohmann::json::array();
    for (size_t start : {size_t(0), size_t(6)}) {
        nlohmann::json ids = nlohmann::json::array();
        for (size_t k = 0; k < 64; ++k) {
            const std::string c(1, text[start + k]);
            ids.push_back(std::find(vocab.begin(), vocab.end(), c) - vocab.begin());
        }
        windows.push_back(ids);
    }
    const fs::path json = scratch() / "ids.json";
    std::ofstream(json) << windows.dump();
    nlohmann::json fromIds = predict(quoted(s_chars.string()) + " --input " + quoted(json.string()));
    ASSERT_EQ(fromIds["samples"].size(), 2u);
    EXPECT_EQ(outputsOf(fromIds["samples"][0]), outputsOf(j["samples"][0]));
    EXPECT_EQ(outputsOf(fromIds["samples"][1]), outputsOf(j["samples"][1]));

    // A character the model never saw is refused with its place.
    std::ofstream(txt) << text.substr(0, 64) << "\n~" << text;
    Outcome r = runStrata("predict " + quoted(s_chars.string()) + " --input " + quoted(txt.string()),
                       scratch());
    if (std::find(vocab.begin(), vocab.end(), "~") == vocab.end()) {
        EXPECT_EQ(r.code, 1);
        EXPECT_TRUE(contains(r.err, txt.string())) << r.err;
        EXPECT_TRUE(contains(r.err, "\"~\" is not in the model's vocabulary")) << r.err;
        EXPECT_TRUE(contains(r.err, "line 2, column 1")) << r.err;
    }
}

TEST_F(PredictCli, InputsThatDoNotFitAreRefusedNamingTheFileAndTheReason) {
    const std::string model = quoted(s_digits.string());
    // A sample of the wrong shape: the path inside the file and the shape expected.
    const fs::path json = scratch() / "bad.json";
    std::ofstream(json) << "[[[[0,0,0,0,0,0,0,0]]]]";
    Outcome r = runStrata("predict " + model + " --input " + quoted(json.string()), scratch());
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.err, json.string() + ": sample 0 at /0/0: expected an array of 8 entries")) << r.err;
    EXPECT_TRUE(contains(r.err, "expected an array of 8 entries but found an array of 1")) << r.err;
    EXPECT_TRUE(r.out.empty());

    std::ofstream(json) << "[[1, 2, \"three\"]]";
    r = runStrata("predict " + model + " --input " + quoted(json.string()), scratch());
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.err, "expected an array of 1 entries")) << r.err;

    // A table with the wrong number of columns.
    const fs::path csv = scratch() / "narrow.csv";
    std::ofstream(csv) << "1,2,3,4,5\n6,7,8,9,10\n";
    r = runStrata("predict " + model + " --input " + quoted(csv.string()), scratch());
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.err, csv.string())) << r.err;
    EXPECT_TRUE(contains(r.err, "takes samples of shape (1, 8, 8) (64 values)")) << r.err;

    // Text for an image model, and a format Strata does not read.
    const fs::path txt = scratch() / "words.txt";
    std::ofstream(txt) << "hello world\n";
    r = runStrata("predict " + model + " --input " + quoted(txt.string()), scratch());
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.err, "text needs a token model")) << r.err;
    const fs::path xls = scratch() / "sheet.xls";
    std::ofstream(xls) << "?";
    r = runStrata("predict " + model + " --input " + quoted(xls.string()), scratch());
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.err, "unknown input format '.xls'")) << r.err;

    // A document that was never trained, a missing input, a missing model, bad options.
    r = runStrata("predict " + quoted(kDigits.string()), scratch());
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.err, kDigits.string() + ": holds no weights")) << r.err;
    r = runStrata("predict " + model + " --input " + quoted((scratch() / "nope.csv").string()),
               scratch());
    EXPECT_EQ(r.code, 3);
    EXPECT_TRUE(contains(r.err, "nope.csv")) << r.err;
    EXPECT_EQ(runStrata("predict " + quoted((scratch() / "none.strata.json").string()), scratch())
                  .code,
              3);
    EXPECT_EQ(runStrata("predict", scratch()).code, 2);
    EXPECT_EQ(runStrata("predict " + model + " --limit 0", scratch()).code, 2);
}

// A 24-bit BMP (the simplest image format to write by hand): a white 16x16 picture with a dark
// vertical bar, as a photographed "1" would look after thresholding.
void writeBmp(const fs::path& path, int size) {
    const int rowBytes = (size * 3 + 3) / 4 * 4;
    const uint32_t pixelBytes = uint32_t(rowBytes * size), fileBytes = 54 + pixelBytes;
    std::vector<uint8_t> b(fileBytes, 0);
    auto put32 = [&](size_t at, uint32_t v) {
        for (int k = 0; k < 4; ++k) b[at + size_t(k)] = uint8_t(v >> (8 * k));
    };
    b[0] = 'B', b[1] = 'M';
    put32(2, fileBytes), put32(10, 54), put32(14, 40), put32(18, uint32_t(size));
    put32(22, uint32_t(size)), b[26] = 1, b[28] = 24, put32(34, pixelBytes);
    for (int y = 0; y < size; ++y) {
        for (int x = 0; x < size; ++x) {
            const uint8_t v = (x >= size / 2 - 1 && x <= size / 2) ? 255 : 0;
            for (int c = 0; c < 3; ++c) b[54 + size_t(y * rowBytes + x * 3 + c)] = v;
        }
    }
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()),
                                                std::streamsize(b.size()));
}

TEST_F(PredictCli, AnImageIsResizedToTheInputShape) {
    const fs::path bmp = scratch() / "one.bmp";
    writeBmp(bmp, 16);
    const fs::path out = scratch() / "image.json";
    Outcome r = runStrata("predict " + quoted(s_digits.string()) + " --device cpu --input " +
                           quoted(bmp.string()) + " --out " + quoted(out.string()),
                       scratch());
    if (r.code == 1 && contains(r.err, "cannot decode images")) {
        GTEST_SKIP() << "this build has no Qt 6 Gui: " << r.err;
    }
    ASSERT_EQ(r.code, 0) << r.err;
    nlohmann::json j = nlohmann::json::parse(slurp(out));
    ASSERT_EQ(j["samples"].size(), 1u);
    EXPECT_EQ(outputsOf(j["samples"][0]).size(), 10u);
    const double p = j["samples"][0]["probability"].get<double>();
    EXPECT_GT(p, 0.1);
    EXPECT_LE(p, 1.0);

    // A sequence model cannot take an image.
    r = runStrata("predict " + quoted(s_chars.string()) + " --input " + quoted(bmp.string()),
               scratch());
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.err, "an image needs a model whose input takes (C, H, W)")) << r.err;
}

}  // namespace

// strata predict MODEL: runs an exported model on its bound validation data or on --input FILE
// and writes the predictions as JSON (docs/model-format.md, "Predictions").
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "app/image_input.h"
#include "core/train/predict.h"

namespace strata::app {

namespace {

int64_t count(const std::string& text, const std::string& flag) {
    try {
        size_t used = 0;
        const long long v = std::stoll(text, &used);
        if (used == text.size() && v >= 1) return v;
    } catch (const std::exception&) {
    }
    throw std::invalid_argument("option " + flag + " needs a whole number >= 1, not '" + text +
                                "'");
}

// The header keys indented, then one sample per line: readable, and still small for big runs.
std::string predictionText(nlohmann::json j) {
    nlohmann::json samples = std::move(j["samples"]);
    j.erase("samples");
    std::string text = j.dump(2);
    text.resize(text.size() - 2);  // drop "\n}"
    text += ",\n  \"samples\": [";
    for (size_t i = 0; i < samples.size(); ++i) {
        text += (i ? ",\n    " : "\n    ") + samples[i].dump();
    }
    text += samples.empty() ? "]\n}\n" : "\n  ]\n}\n";
    return text;
}

}  // namespace

int cmdPredict(const Args& argsIn) {
    Args args = argsIn;
    const std::string input = takeOption(args, "--input");
    const std::string out = takeOption(args, "--out");
    PredictorOptions options;
    options.device = takeOption(args, "--device");
    const std::string batch = takeOption(args, "--batch-size");
    const std::string limitText = takeOption(args, "--limit");
    if (args.size() != 1 || args[0].starts_with("--")) {
        return usageError(args.empty() ? "predict needs a model: strata predict MODEL.strata.json"
                                       : "unexpected argument '" + args.back() + "'");
    }
    if (!batch.empty()) options.batchSize = count(batch, "--batch-size");
    const int64_t limit = limitText.empty() ? 0 : count(limitText, "--limit");
    const std::filesystem::path path = args[0];

    if (!std::filesystem::exists(path)) {
        std::cerr << "strata: cannot open " << path.string() << ": no such file\n";
        return kIoError;
    }
    auto predictor = Predictor::open(path, options);
    if (!predictor) {
        std::cerr << "strata: " << predictor.message() << "\n";
        return kInvalid;
    }
    Predictor& p = **predictor;

    Result<std::shared_ptr<const Dataset>> data = fail("no data");
    std::string source;
    if (input.empty()) {
        data = p.validationData();
        if (!data) {
            std::cerr << "strata: " << path.string() << ": " << data.message() << "\n";
            return kInvalid;
        }
        source = "validation split of " + p.document().dataset->source;
    } else {
        if (!std::filesystem::is_regular_file(input)) {
            std::cerr << "strata: cannot open " << input << ": no such file\n";
            return kIoError;
        }
        if (isImageFile(input)) {
            if (p.inputs().size() != 1) {
                std::cerr << "strata: " << input << ": the model reads several fields; an image "
                          << "can feed only a model with one input\n";
                return kInvalid;
            }
            data = readImageInput(input, p.inputs().front());
        } else {
            data = p.readInput(input);
        }
        if (!data) {
            std::cerr << "strata: " << data.message() << "\n";
            return kInvalid;
        }
        source = input;
    }
    auto predictions = p.run(**data, limit);
    if (!predictions) {
        std::cerr << "strata: " << source << ": " << predictions.message() << "\n";
        return kInvalid;
    }
    nlohmann::json j = predictionsToJson(
        *predictions, p.document().preprocessing.value_or(Preprocessing{}));
    j["file"] = path.string();
    j["input"] = {{"source", source}, {"samples", predictions->samples.size()}};
    const std::string text = predictionText(std::move(j));
    if (out.empty()) {
        std::cout << text;
        return kOk;
    }
    std::ofstream file(out, std::ios::binary | std::ios::trunc);
    file << text;
    file.close();
    if (!file) {
        std::cerr << "strata: cannot write " << out << "\n";
        return kIoError;
    }
    std::string accuracy;
    if (std::isfinite(predictions->accuracy)) {
        char buf[48];
        std::snprintf(buf, sizeof buf, " (accuracy %.2f%%)", 100.0 * predictions->accuracy);
        accuracy = buf;
    }
    std::cerr << "wrote " << predictions->samples.size() << " predictions to " << out << accuracy
              << "\n";
    return kOk;
}

}  // namespace strata::app

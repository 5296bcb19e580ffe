// strata train FILE: trains a document's graph on its bound data set, headless.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <map>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "core/data/dataset.h"
#include "core/data/open_dataset.h"
#include "core/data/split.h"
#include "core/io/document.h"
#include "core/train/normalized_dataset.h"
#include "core/train/trainer.h"

namespace strata::app {

namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void onInterrupt(int) {
    g_interrupted = true;
}

struct TrainingData {
    std::shared_ptr<const Dataset> train, validation;  // validation null when there is none
    Preprocessing preprocessing;                        // learned on the training split
};

// Opens the document's bound data, splits it, learns the normalisation of the float inputs on
// the training split and applies it to both splits.
Result<TrainingData> openDatasets(const Document& doc, const std::filesystem::path& documentPath) {
    if (!doc.dataset) {
        return fail(documentPath.string() +
                    " binds no dataset; add a \"dataset\" section (see docs/model-format.md)");
    }
    auto splits = openSplits(*doc.dataset, documentPath.parent_path());
    if (!splits) return fail(documentPath.string() + ": " + splits.message());
    TrainingData out;
    out.preprocessing = datasetPreprocessing(*splits->train);
    auto norm = learnNormalization(doc.graph, *splits->train);
    if (!norm) return fail(documentPath.string() + ": " + norm.message());
    out.preprocessing.normalization = *norm;
    out.train = applyNormalization(splits->train, *norm);
    if (splits->validation && splits->validation->size() > 0) {
        out.validation = applyNormalization(splits->validation, *norm);
    }
    return out;
}

std::string isoNow() {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return buf;
}

double number(const std::string& text, const std::string& flag) {
    try {
        size_t used = 0;
        double v = std::stod(text, &used);
        if (used == text.size()) return v;
    } catch (const std::exception&) {
    }
    throw std::invalid_argument("option " + flag + " needs a number, not '" + text + "'");
}

std::string clock(double seconds) {
    const int64_t s = static_cast<int64_t>(seconds + 0.5);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
    return buf;
}

nlohmann::json jsonNumber(double v) {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
}

}  // namespace

int cmdTrain(const Args& argsIn) {
    Args args = argsIn;
    const bool json = takeFlag(args, "--json");
    const std::string epochs = takeOption(args, "--epochs");
    const std::string batch = takeOption(args, "--batch-size");
    const std::string lr = takeOption(args, "--lr");
    const std::string optimizer = takeOption(args, "--optimizer");
    const std::string device = takeOption(args, "--device");
    const std::string seed = takeOption(args, "--seed");
    std::string out = takeOption(args, "--out");
    const std::string checkpointDir = takeOption(args, "--checkpoint-dir");
    const std::string resume = takeOption(args, "--resume");
    if (args.size() != 1 || args[0].starts_with("--")) {
        return usageError(args.empty() ? "train needs a document: strata train FILE"
                                       : "unexpected argument '" + args.back() + "'");
    }
    const std::filesystem::path path = args[0];
    auto doc = readDocument(path);
    if (!doc) {
        std::cerr << "strata: " << doc.message() << "\n";
        return std::filesystem::exists(path) ? kInvalid : kIoError;
    }
    TrainingSettings& s = doc->training;
    if (!epochs.empty()) s.epochs = static_cast<int64_t>(number(epochs, "--epochs"));
    if (!batch.empty()) s.batchSize = static_cast<int64_t>(number(batch, "--batch-size"));
    if (!lr.empty()) s.optimizer.learningRate = number(lr, "--lr");
    if (!optimizer.empty()) s.optimizer.name = optimizer;
    if (!device.empty()) s.device = device;
    if (!seed.empty()) s.seed = static_cast<uint64_t>(number(seed, "--seed"));
    if (out.empty()) {
        std::string stem = path.filename().string();
        if (stem.ends_with(".strata.json")) stem.resize(stem.size() - 12);
        out = (path.parent_path() / (stem + ".trained.strata.json")).string();
    }

    auto data = openDatasets(*doc, path);
    if (!data) {
        std::cerr << "strata: " << data.message() << "\n";
        return kInvalid;
    }
    TrainerConfig config;
    config.graph = doc->graph;
    config.settings = s;
    config.train = data->train;
    config.validation = data->validation;
    config.initialWeights = doc->weights;
    // Ctrl-C must still leave a checkpoint, so there is always a folder for one.
    config.checkpointDir = checkpointDir.empty() ? out + ".checkpoints" : checkpointDir;
    config.resumeFrom = resume;
    Trainer trainer(std::move(config));
    if (auto r = trainer.start(); !r) {
        std::cerr << "strata: " << path.string() << ": " << r.message() << "\n";
        return kInvalid;
    }
    g_interrupted = false;
    auto previous = std::signal(SIGINT, onInterrupt);
    const bool bar = !json && isatty(STDERR_FILENO);
    const auto started = std::chrono::steady_clock::now();
    const std::string startedAt = isoNow();
    std::map<int64_t, double> epochLearningRate;
    const int64_t stepsPerEpoch =
        (data->train->size() + s.batchSize - 1) / std::max<int64_t>(1, s.batchSize);
    const int64_t totalSteps = stepsPerEpoch * s.epochs;
    StepMetrics last;
    double lastAccuracy = kNoValue;
    std::string failure;
    bool running = true;
    while (running) {
        if (g_interrupted) trainer.stop();
        while (auto m = trainer.steps().pop()) {
            last = *m;
            epochLearningRate[m->epoch] = m->learningRate;
            if (json) {
                std::cout << nlohmann::json{{"event", "step"},
                                            {"step", m->step},
                                            {"epoch", m->epoch},
                                            {"loss", jsonNumber(m->loss)},
                                            {"lr", m->learningRate},
                                            {"grad_norm", jsonNumber(m->gradNorm)},
                                            {"samples_per_second", m->samplesPerSecond}}
                                 .dump()
                          << "\n";
            }
        }
        for (const auto& e : trainer.takeEvents()) {
            using K = TrainerEvent::Kind;
            if (e.kind == K::EpochEnd) {
                lastAccuracy = std::isfinite(e.epoch.valAccuracy) ? e.epoch.valAccuracy
                                                                  : e.epoch.trainAccuracy;
                if (json) {
                    std::cout << nlohmann::json{{"event", "epoch"},
                                                {"epoch", e.epoch.epoch + 1},
                                                {"train_loss", jsonNumber(e.epoch.trainLoss)},
                                                {"train_accuracy",
                                                 jsonNumber(e.epoch.trainAccuracy)},
                                                {"val_loss", jsonNumber(e.epoch.valLoss)},
                                                {"val_accuracy", jsonNumber(e.epoch.valAccuracy)},
                                                {"seconds", e.epoch.seconds}}
                                     .dump()
                              << "\n";
                } else if (!bar) {
                    std::string accuracy, validation = ", no validation split";
                    if (std::isfinite(e.epoch.valLoss)) {
                        char buf[48];
                        std::snprintf(buf, sizeof buf, ", val loss %.4f", e.epoch.valLoss);
                        validation = buf;
                    }
                    if (std::isfinite(e.epoch.valAccuracy)) {
                        char buf[48];
                        std::snprintf(buf, sizeof buf, ", val accuracy %.2f%%",
                                      100.0 * e.epoch.valAccuracy);
                        accuracy = buf;
                    }
                    std::fprintf(stderr, "epoch %lld: train loss %.4f%s%s\n",
                                 static_cast<long long>(e.epoch.epoch + 1), e.epoch.trainLoss,
                                 validation.c_str(), accuracy.c_str());
                }
            } else if (e.kind == K::Paused && e.message != "paused") {
                failure = e.message;  // a non-finite value: a headless run cannot wait for a person
                trainer.stop();
            } else if (e.kind == K::Error) {
                failure = e.message;
            } else if (e.kind == K::Finished) {
                running = false;
            }
        }
        if (trainer.state() == TrainerState::Failed) running = false;
        if (bar && last.step > 0) {
            const double elapsed =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            const int64_t done = std::min(last.step, totalSteps);
            const double eta = done ? elapsed * double(totalSteps - done) / double(done) : 0.0;
            const int width = 24;
            const int filled = static_cast<int>(width * done / std::max<int64_t>(1, totalSteps));
            std::string accuracy =
                std::isfinite(lastAccuracy)
                    ? " acc " + std::to_string(lastAccuracy * 100).substr(0, 5) + "%"
                    : "";
            std::fprintf(stderr, "\repoch %lld/%lld [%s%s] loss %.4f%s %.0f samples/s ETA %s   ",
                         static_cast<long long>(last.epoch + 1), static_cast<long long>(s.epochs),
                         std::string(static_cast<size_t>(filled), '#').c_str(),
                         std::string(static_cast<size_t>(width - filled), '.').c_str(), last.loss,
                         accuracy.c_str(), last.samplesPerSecond, clock(eta).c_str());
        }
        if (running) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    trainer.wait();
    std::signal(SIGINT, previous);
    if (bar) std::fprintf(stderr, "\n");
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (trainer.state() == TrainerState::Failed) {
        std::cerr << "strata: " << failure << "\n";
        return kInvalid;
    }
    doc->weights = trainer.weights();
    doc->preprocessing = data->preprocessing;
    doc->training = s;
    Document settingsOnly;
    settingsOnly.training = s;
    nlohmann::json record = {
        {"settings", toJson(settingsOnly)["training"]},
        {"device", trainer.deviceName()},
        {"started", startedAt},
        {"duration_seconds", seconds},
        {"steps", last.step},
        {"samples",
         {{"train", data->train->size()},
          {"validation", data->validation ? data->validation->size() : 0},
          {"test", 0}}},
        {"strata_version", STRATA_VERSION},
        {"stopped", g_interrupted.load() || !failure.empty()}};
    record["epochs"] = nlohmann::json::array();
    for (const auto& m : trainer.history()) {
        nlohmann::json e = toJson(m);
        e["epoch"] = m.epoch + 1;
        if (auto lrIt = epochLearningRate.find(m.epoch); lrIt != epochLearningRate.end()) {
            e["learning_rate"] = lrIt->second;
        }
        record["epochs"].push_back(std::move(e));
    }
    doc->trainingRecord = record;
    if (auto w = writeDocument(*doc, out); !w) {
        std::cerr << "strata: " << w.message() << "\n";
        return kIoError;
    }
    if (json) {
        std::cout << nlohmann::json{{"event", "done"},
                                    {"out", out},
                                    {"steps", last.step},
                                    {"seconds", seconds},
                                    {"stopped", record["stopped"]}}
                         .dump()
                  << "\n";
    } else {
        std::cerr << "wrote " << out << "\n";
    }
    if (!failure.empty()) {
        std::cerr << "strata: " << failure << "\n";
        return kInvalid;
    }
    return g_interrupted ? kStopped : kOk;
}

}  // namespace strata::app

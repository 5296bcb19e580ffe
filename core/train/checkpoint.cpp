#include "core/train/checkpoint.h"

#include <cstring>
#include <fstream>

namespace strata {

namespace {
constexpr char kMagic[8] = {'S', 'T', 'R', 'A', 'T', 'A', 'C', 'K'};
constexpr uint32_t kVersion = 1;
}  // namespace

nlohmann::json parameterLayout(const Program& p) {
    nlohmann::json l = nlohmann::json::array();
    for (TensorId id : p.parameters) {
        const ProgramTensor& t = p.tensor(id);
        l.push_back({{"name", t.name}, {"offset", t.offset}, {"numel", t.numel}});
    }
    return l;
}

Result<void> writeCheckpoint(const Checkpoint& c, const std::filesystem::path& path) {
    nlohmann::json h = {{"step", c.step},
                        {"epoch", c.epoch},
                        {"batch_in_epoch", c.batchInEpoch},
                        {"seed", c.seed},
                        {"optimizer", c.optimizer},
                        {"epoch_loss_sum", c.epochLossSum},
                        {"epoch_samples", c.epochSamples},
                        {"epoch_correct", c.epochCorrect},
                        {"epoch_counted", c.epochCounted},
                        {"best_metric", std::isfinite(c.bestMetric) ? nlohmann::json(c.bestMetric)
                                                                    : nlohmann::json()},
                        {"epochs_without_improvement", c.epochsWithoutImprovement},
                        {"parameter_floats", c.parameters.size()},
                        {"optimizer_floats", c.optimizerState.size()},
                        {"layout", c.layout}};
    h["history"] = nlohmann::json::array();
    for (const auto& m : c.history) h["history"].push_back(toJson(m));
    const std::string header = h.dump();
    std::error_code ec;
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
    const std::filesystem::path tmp = path.string() + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        if (!f) return fail("cannot write checkpoint '" + tmp.string() + "'; check the folder");
        const uint64_t len = header.size();
        f.write(kMagic, sizeof kMagic);
        f.write(reinterpret_cast<const char*>(&kVersion), sizeof kVersion);
        f.write(reinterpret_cast<const char*>(&len), sizeof len);
        f.write(header.data(), static_cast<std::streamsize>(len));
        f.write(reinterpret_cast<const char*>(c.parameters.data()),
                static_cast<std::streamsize>(c.parameters.size() * sizeof(float)));
        f.write(reinterpret_cast<const char*>(c.optimizerState.data()),
                static_cast<std::streamsize>(c.optimizerState.size() * sizeof(float)));
        if (!f) return fail("writing checkpoint '" + tmp.string() + "' failed; is the disk full?");
    }
    std::filesystem::rename(tmp, path, ec);
    if (ec)
        return fail("cannot rename '" + tmp.string() + "' to '" + path.string() +
                    "': " + ec.message());
    return {};
}

Result<Checkpoint> readCheckpoint(const std::filesystem::path& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return fail("cannot open checkpoint '" + path.string() + "'");
    char magic[8] = {};
    uint32_t version = 0;
    uint64_t len = 0;
    f.read(magic, sizeof magic);
    f.read(reinterpret_cast<char*>(&version), sizeof version);
    f.read(reinterpret_cast<char*>(&len), sizeof len);
    if (!f || std::memcmp(magic, kMagic, sizeof kMagic) != 0) {
        return fail("'" + path.string() + "' is not a Strata checkpoint");
    }
    if (version != kVersion) {
        return fail("checkpoint '" + path.string() + "' has version " + std::to_string(version) +
                    "; this Strata reads version " + std::to_string(kVersion));
    }
    if (len > (1u << 30)) return fail("checkpoint '" + path.string() + "' has a corrupt header");
    std::string header(len, '\0');
    f.read(header.data(), static_cast<std::streamsize>(len));
    auto h = nlohmann::json::parse(header, nullptr, false);
    if (!f || h.is_discarded() || !h.is_object()) {
        return fail("checkpoint '" + path.string() + "' has a corrupt header");
    }
    Checkpoint c;
    try {
        c.step = h.at("step");
        c.epoch = h.at("epoch");
        c.batchInEpoch = h.at("batch_in_epoch");
        c.seed = h.at("seed");
        c.optimizer = h.at("optimizer");
        c.epochLossSum = h.at("epoch_loss_sum");
        c.epochSamples = h.at("epoch_samples");
        c.epochCorrect = h.at("epoch_correct");
        c.epochCounted = h.at("epoch_counted");
        c.bestMetric = h.at("best_metric").is_number() ? h["best_metric"].get<double>() : kNoValue;
        c.epochsWithoutImprovement = h.at("epochs_without_improvement");
        c.layout = h.at("layout");
        for (const auto& m : h.at("history")) c.history.push_back(epochMetricsFromJson(m));
        c.parameters.resize(h.at("parameter_floats").get<size_t>());
        c.optimizerState.resize(h.at("optimizer_floats").get<size_t>());
    } catch (const nlohmann::json::exception& e) {
        return fail("checkpoint '" + path.string() + "' has a corrupt header (" + e.what() + ")");
    }
    f.read(reinterpret_cast<char*>(c.parameters.data()),
           static_cast<std::streamsize>(c.parameters.size() * sizeof(float)));
    f.read(reinterpret_cast<char*>(c.optimizerState.data()),
           static_cast<std::streamsize>(c.optimizerState.size() * sizeof(float)));
    if (!f) return fail("checkpoint '" + path.string() + "' is truncated");
    return c;
}

Result<void> checkCheckpointFits(const Checkpoint& c, const Program& p) {
    if (c.layout != parameterLayout(p) ||
        static_cast<int64_t>(c.parameters.size()) != p.parameterFloats) {
        return fail(
            "the checkpoint was made for a different graph (its layers or their sizes "
            "differ); start a new run or restore the graph it was made with");
    }
    if (c.optimizer != p.optimizer.name ||
        c.optimizerState.size() !=
            p.optimizerState.size() * static_cast<size_t>(p.trainableFloats)) {
        return fail("the checkpoint was made with optimizer '" + c.optimizer + "', not '" +
                    p.optimizer.name + "'; resume with the same optimizer settings");
    }
    return {};
}

}  // namespace strata

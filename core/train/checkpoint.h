#pragma once
// Checkpoints: everything needed to continue a run on the same curve — the parameter arena
// (buffers included), the optimizer state, the step, the position in the epoch's data order and
// the epoch's running sums, and the metrics so far. The data order itself is a function of
// (seed, epoch), so the position is all that needs saving.
//
// File: "STRATACK", uint32 version, uint64 header length, the JSON header, then the float32
// parameter arena and optimizer state arena (little-endian). Written to a temporary file and
// renamed, so a crash never leaves half a checkpoint.
#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/engine/program.h"
#include "core/train/metrics.h"

namespace strata {

struct Checkpoint {
    int64_t step = 0;          // optimizer steps done
    int64_t epoch = 0;         // current epoch (0-based)
    int64_t batchInEpoch = 0;  // batches of `epoch` already done
    uint64_t seed = 0;
    std::string optimizer;
    // Running sums of the current epoch (so its metrics come out the same after a resume).
    double epochLossSum = 0;
    int64_t epochSamples = 0, epochCorrect = 0, epochCounted = 0;
    double bestMetric = kNoValue;  // lowest validation (else training) loss so far
    int64_t epochsWithoutImprovement = 0;
    std::vector<EpochMetrics> history;
    std::vector<float> parameters;      // Program::parameterFloats
    std::vector<float> optimizerState;  // slots * Program::trainableFloats
    nlohmann::json layout;              // parameter names, offsets and sizes, for checking
};

nlohmann::json parameterLayout(const Program& p);

Result<void> writeCheckpoint(const Checkpoint& c, const std::filesystem::path& path);
Result<Checkpoint> readCheckpoint(const std::filesystem::path& path);
// Refuses a checkpoint made for another graph or optimizer, saying what differs.
Result<void> checkCheckpointFits(const Checkpoint& c, const Program& p);

}  // namespace strata

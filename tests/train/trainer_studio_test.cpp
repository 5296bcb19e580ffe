// What the studio needs from the Trainer beyond the CLI: per-sample validation predictions in
// the epoch event (a confusion cell lists its samples) and checkpoints on request, while running,
// paused or after the run.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "core/train/trainer.h"
#include "train/train_helpers.h"

namespace strata::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

TrainerConfig smallConfig(int64_t epochs) {
    TrainerConfig c;
    c.graph = mlpGraph(4, 16, 3);
    c.settings.epochs = epochs;
    c.settings.batchSize = 32;
    c.settings.optimizer = {.name = "adam", .learningRate = 0.01};
    c.settings.seed = 7;
    c.settings.device = "cpu";
    c.train = blobs(300, 4, 1);
    c.validation = blobs(90, 4, 2);
    c.cpuThreads = 1;
    return c;
}

TEST(TrainerForTheStudio, EpochEventsCarryEveryValidationPrediction) {
    Trainer t(smallConfig(2));
    ASSERT_TRUE(t.start().ok());
    t.wait();
    std::vector<EpochMetrics> epochs;
    for (const auto& e : t.takeEvents()) {
        if (e.kind == TrainerEvent::Kind::EpochEnd) epochs.push_back(e.epoch);
    }
    ASSERT_EQ(epochs.size(), 2u);
    const EpochMetrics& m = epochs.back();
    ASSERT_EQ(m.classes, 3);
    ASSERT_EQ(m.predictions.size(), 90u);
    ASSERT_EQ(m.targets.size(), 90u);
    EXPECT_EQ(m.rowsPerSample, 1);
    // The rows rebuild the matrix and the accuracy exactly.
    std::vector<int64_t> confusion(9, 0);
    int64_t correct = 0;
    for (size_t i = 0; i < 90; ++i) {
        EXPECT_EQ(m.targets[i], int32_t(i % 3));  // blobs: class i % 3, in dataset order
        ++confusion[size_t(m.targets[i] * 3 + m.predictions[i])];
        correct += m.targets[i] == m.predictions[i];
    }
    EXPECT_EQ(confusion, m.confusion);
    EXPECT_DOUBLE_EQ(double(correct) / 90.0, m.valAccuracy);
    // The history (which goes into checkpoints) keeps the matrix, not the rows.
    EXPECT_TRUE(t.history().back().predictions.empty());
    EXPECT_EQ(t.history().back().confusion, m.confusion);
}

TEST(TrainerForTheStudio, WritesACheckpointOnRequest) {
    const fs::path dir = fs::temp_directory_path() / "strata_trainer_studio_test";
    fs::remove_all(dir);
    fs::create_directories(dir);
    TrainerConfig c = smallConfig(200);
    Trainer t(std::move(c));
    EXPECT_FALSE(t.requestCheckpoint(dir / "early.ckpt").ok());  // nothing started
    ASSERT_TRUE(t.start().ok());
    // While paused: written at once by the waiting worker.
    t.pause();
    ASSERT_TRUE(waitFor([&] { return t.state() == TrainerState::Paused; }));
    ASSERT_TRUE(t.requestCheckpoint(dir / "paused.ckpt").ok());
    ASSERT_TRUE(waitFor([&] { return fs::exists(dir / "paused.ckpt"); }));
    EXPECT_EQ(t.state(), TrainerState::Paused);
    auto paused = readCheckpoint(dir / "paused.ckpt");
    ASSERT_TRUE(paused.ok()) << paused.message();
    // While running: between two steps.
    t.resume();
    ASSERT_TRUE(t.requestCheckpoint(dir / "running.ckpt").ok());
    ASSERT_TRUE(waitFor([&] { return fs::exists(dir / "running.ckpt"); }));
    t.stop();
    t.wait();
    // After the end: written here, and a failure comes back as a sentence.
    ASSERT_TRUE(t.requestCheckpoint(dir / "after.ckpt").ok());
    auto after = readCheckpoint(dir / "after.ckpt");
    ASSERT_TRUE(after.ok()) << after.message();
    EXPECT_GE(after->step, paused->step);
    EXPECT_FALSE(t.requestCheckpoint(dir / "paused.ckpt" / "x.ckpt").ok());  // under a file
    int saved = 0;
    for (const auto& e : t.takeEvents()) saved += e.kind == TrainerEvent::Kind::Checkpoint;
    EXPECT_EQ(saved, 3);
    fs::remove_all(dir);
}

}  // namespace
}  // namespace strata::test

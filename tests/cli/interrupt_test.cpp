// Ctrl-C during `strata train`: the run stops after the current step and still writes the model
// and a checkpoint to resume from.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "cli/cli_helpers.h"

namespace strata::test {
namespace {

TEST(TrainCli, CtrlCStopsAfterTheStepAndStillWritesTheModelAndACheckpoint) {
    TempDir dir;
    const fs::path out = dir.path() / "model.strata.json", log = dir.path() / "stdout";
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // A run far longer than the test waits: only the interrupt can end it in time.
        const std::string doc = (kSource / "samples/mlp-regression/mlp-regression.strata.json");
        FILE* f = std::freopen(log.c_str(), "w", stdout);
        (void)f;
        execl(STRATA_BINARY, STRATA_BINARY, "train", doc.c_str(), "--epochs", "100000",
              "--device", "cpu", "--json", "--out", out.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    // Wait for the first steps, then press Ctrl-C.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!contains(slurp(log), "\"event\":\"step\"") &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(contains(slurp(log), "\"event\":\"step\"")) << "training never started";
    ASSERT_EQ(kill(child, SIGINT), 0);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status)) << "strata died of the signal instead of stopping";
    EXPECT_EQ(WEXITSTATUS(status), 4);  // "stopped": the README's exit code for Ctrl-C
    ASSERT_TRUE(fs::exists(out));
    const std::string model = slurp(out);
    EXPECT_TRUE(contains(model, "\"weights\"")) << model.substr(0, 200);
    EXPECT_TRUE(contains(model, "\"stopped\": true") || contains(model, "\"stopped\":true"));
    bool checkpoint = false;
    for (const auto& e : fs::recursive_directory_iterator(dir.path())) {
        checkpoint = checkpoint || e.path().extension() == ".ckpt";
    }
    EXPECT_TRUE(checkpoint) << "no checkpoint to resume from";
    EXPECT_TRUE(contains(slurp(log), "\"event\":\"done\""));
}

}  // namespace
}  // namespace strata::test

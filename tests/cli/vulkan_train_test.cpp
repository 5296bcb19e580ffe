// Training on the Vulkan backend as a user runs it: `strata train --device vulkan`. On lavapipe in
// CI; skipped with the reason where the machine has no Vulkan device at all.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli_helpers.h"

namespace strata::test {
namespace {

bool haveVulkan() {
    const Outcome r = runStrata("devices");
    return r.code == 0 && contains(r.out, "vulkan:");
}

std::vector<nlohmann::json> events(const std::string& out, const std::string& kind) {
    std::vector<nlohmann::json> found;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
        if (line.empty() || line[0] != '{') continue;
        auto j = nlohmann::json::parse(line);
        if (j["event"] == kind) found.push_back(j);
    }
    return found;
}

TEST(VulkanTraining, DigitsCnnMatchesTheCpuStepByStepAndReaches97Percent) {
    if (!haveVulkan()) GTEST_SKIP() << "no Vulkan device (install mesa-vulkan-drivers)";
    TempDir dir;
    const std::string doc = "samples/digits-cnn/digits-cnn.strata.json";
    const Outcome gpu = runStrata("train " + doc + " --device vulkan --json --out " +
                                  quoted((dir.path() / "gpu.json").string()), dir.path());
    ASSERT_EQ(gpu.code, 0) << gpu.err;
    const Outcome cpu = runStrata("train " + doc + " --device cpu --epochs 1 --json --out " +
                                  quoted((dir.path() / "cpu.json").string()), dir.path());
    ASSERT_EQ(cpu.code, 0) << cpu.err;

    const auto gpuSteps = events(gpu.out, "step"), cpuSteps = events(cpu.out, "step");
    ASSERT_GE(cpuSteps.size(), 20u);
    ASSERT_GE(gpuSteps.size(), 20u);
    for (size_t i = 0; i < 20; ++i) {
        const double g = gpuSteps[i]["loss"], c = cpuSteps[i]["loss"];
        EXPECT_NEAR(g, c, 1e-3 * std::abs(c)) << "step " << i + 1;
    }
    const auto epochs = events(gpu.out, "epoch");
    ASSERT_FALSE(epochs.empty());
    const double accuracy = epochs.back()["val_accuracy"];
    EXPECT_GE(accuracy, 0.97) << "after " << epochs.size() << " epochs on the Vulkan device";
}

}  // namespace
}  // namespace strata::test

// What `strata bench` reads from the Vulkan backend: per-op times from timestamp queries, the
// commands of a step and the bytes it holds. Profiling must not change what a step computes.
#include <algorithm>

#include "core/engine/program.h"
#include "gpu/vulkan_backend.h"
#include "gpu_fixture.h"
#include "train/train_helpers.h"

namespace strata::gpu::test {
namespace {

class VulkanProfilingTest : public GpuTest {
protected:
    // Two Adam steps on a small MLP; returns the losses.
    std::vector<float> twoSteps(VulkanBackend& b, const Program& p, bool profile) {
        EXPECT_TRUE(b.prepare(p).ok());
        EXPECT_TRUE(b.uploadParameters(initialParameters(p, 3)).ok());
        b.setProfiling(profile);
        std::vector<float> losses;
        for (int64_t s = 1; s <= 2; ++s) {
            EXPECT_TRUE(b.setInput("x", randomFloats(24, uint32_t(s)), 4).ok());
            EXPECT_TRUE(b.setInput("y", std::vector<float>{0, 1, 2, 0}, 4).ok());
            auto r = b.trainStep({.learningRate = 0.01f, .step = s, .batch = 4});
            EXPECT_TRUE(r.ok()) << r.message();
            losses.push_back(r ? r->loss : 0.0f);
        }
        return losses;
    }
    std::unique_ptr<VulkanBackend> backend() {
        auto b = VulkanBackend::create(gpuContext().instance, dev().info().index);
        EXPECT_TRUE(b.ok()) << b.message();
        return b ? std::move(*b) : nullptr;
    }
};

TEST_F(VulkanProfilingTest, EveryOpOfAStepIsTimedAndTheResultsStayTheSame) {
    auto p = compile(strata::test::mlpGraph(6, 24, 3), 4, {.optimizer = {.name = "adam"}});
    ASSERT_TRUE(p.ok()) << p.message();
    auto plain = backend(), profiled = backend();
    ASSERT_TRUE(plain && profiled);
    const auto expected = twoSteps(*plain, *p, false);
    EXPECT_TRUE(plain->timings().empty()) << "no timestamps unless asked for";
    EXPECT_EQ(twoSteps(*profiled, *p, true), expected);

    const auto timings = profiled->timings();
    std::vector<std::string> names;
    double total = 0;
    for (const auto& t : timings) {
        names.push_back(t.name);
        EXPECT_EQ(t.calls, 2) << t.name << ": once per step";
        EXPECT_GE(t.seconds, 0.0) << t.name;
        total += t.seconds;
    }
    for (const auto& op : p->forward) {
        EXPECT_NE(std::find(names.begin(), names.end(), op.name + " forward"), names.end())
            << op.name;
    }
    for (const auto& op : p->backward) {
        EXPECT_NE(std::find(names.begin(), names.end(), op.name + " backward"), names.end())
            << op.name;
    }
    for (const char* phase : {"optimizer", "gradient norm", "zero the gradients"}) {
        EXPECT_NE(std::find(names.begin(), names.end(), phase), names.end()) << phase;
    }
    EXPECT_GT(total, 0.0);

    // Timestamps are not commands: both count the same dispatches, fills and the two uploads.
    EXPECT_GT(plain->dispatchesPerStep(), int64_t(p->forward.size() + p->backward.size()));
    EXPECT_EQ(profiled->dispatchesPerStep(), plain->dispatchesPerStep());
    const int64_t arenas = 4 * (p->parameterFloats + 3 * p->trainableFloats +
                                p->activationFloats);
    EXPECT_GT(plain->deviceBytes(), arenas);
}

}  // namespace
}  // namespace strata::gpu::test

// The Trainer over the Vulkan backend, whose steps are queued two at a time and whose results
// come back a step late: every step is still reported once and in order, with the CPU's losses,
// and a bad batch pauses the run at the same step as on the CPU with the same weights kept.
#include <chrono>
#include <cmath>
#include <map>
#include <thread>

#include "core/train/trainer.h"
#include "gpu/vulkan_backend.h"
#include "gpu_fixture.h"
#include "train/train_helpers.h"

namespace strata::gpu::test {
namespace {

using namespace std::chrono_literals;

class VulkanTrainerTest : public GpuTest {
protected:
    TrainerConfig config(bool onGpu, std::shared_ptr<TensorDataset> train) {
        TrainerConfig c;
        c.graph = strata::test::mlpGraph(4, 16, 3);
        c.settings.epochs = 2;
        c.settings.batchSize = 32;  // 300 samples: 9 full batches and a partial one of 12
        c.settings.optimizer = {.name = "adam", .learningRate = 0.01};
        c.settings.seed = 42;
        c.settings.device = "cpu";
        c.train = std::move(train);
        c.validation = strata::test::blobs(90, 4, 2);
        c.cpuThreads = 1;
        if (onGpu) {
            auto b = VulkanBackend::create(gpuContext().instance, dev().info().index);
            EXPECT_TRUE(b.ok()) << b.message();
            if (b) c.backend = std::move(*b);
        }
        return c;
    }
};

struct RunResult {
    std::map<int64_t, float> losses;  // by step
    TrainerState state = TrainerState::Idle;
    std::string problem;
    WeightSet weights;
};

// Runs to the end, or to the first pause, which it turns into a stop.
RunResult runTrainer(TrainerConfig c) {
    RunResult out;
    Trainer t(std::move(c));
    auto started = t.start();
    EXPECT_TRUE(started.ok()) << started.message();
    if (!started) return out;
    const auto limit = std::chrono::steady_clock::now() + 120s;
    while (t.state() == TrainerState::Running && std::chrono::steady_clock::now() < limit) {
        std::this_thread::sleep_for(2ms);
    }
    if (t.state() == TrainerState::Paused) {
        out.problem = t.lastProblem();
        out.weights = t.weights();
        t.stop();
    }
    t.wait();
    while (auto m = t.steps().pop()) {
        EXPECT_TRUE(out.losses.emplace(m->step, m->loss).second) << "step " << m->step << " twice";
    }
    out.state = t.state();
    if (out.weights.empty()) out.weights = t.weights();
    return out;
}

float maxWeightDifference(const WeightSet& a, const WeightSet& b) {
    float worst = 0.0f;
    for (const auto& [node, tensors] : a) {
        for (const auto& [name, t] : tensors) {
            const Tensor& u = b.at(node).at(name);
            for (size_t i = 0; i < t.data.size(); ++i) {
                worst = std::max(worst, std::abs(t.data[i] - u.data[i]));
            }
        }
    }
    return worst;
}

TEST_F(VulkanTrainerTest, QueuedStepsAreReportedOnceInOrderWithTheCpuLosses) {
    const RunResult gpu = runTrainer(config(true, strata::test::blobs(300, 4, 1)));
    const RunResult cpu = runTrainer(config(false, strata::test::blobs(300, 4, 1)));
    ASSERT_EQ(gpu.state, TrainerState::Finished);
    ASSERT_EQ(gpu.losses.size(), 20u);  // 10 steps per epoch, each reported once
    EXPECT_EQ(gpu.losses.begin()->first, 1);
    EXPECT_EQ(gpu.losses.rbegin()->first, 20);
    for (const auto& [step, loss] : cpu.losses) {
        EXPECT_NEAR(gpu.losses.at(step), loss, 1e-3f * std::abs(loss)) << "step " << step;
    }
    EXPECT_LE(maxWeightDifference(gpu.weights, cpu.weights), 1e-3f);
}

TEST_F(VulkanTrainerTest, ABadBatchPausesAtTheCpusStepWithTheLastGoodWeights) {
    // Sample 150 holds an infinite feature: the step whose batch draws it cannot be applied,
    // and the step queued behind it on the GPU must not be either.
    auto poisoned = [] {
        auto d = strata::test::blobs(300, 4, 1);
        std::vector<int64_t> all(300);
        for (int64_t i = 0; i < 300; ++i) all[size_t(i)] = i;
        Tensor x(Shape{300, 1, 4}), y(Shape{300, 1});
        d->gather(all, "x", x.data.data());
        d->gather(all, "y", y.data.data());
        x.data[150 * 4] = INFINITY;
        auto made = TensorDataset::create({{"x", std::move(x)}, {"y", std::move(y)}},
                                          {{"y", DType::Int32}});
        EXPECT_TRUE(made.ok());
        return std::make_shared<TensorDataset>(std::move(*made));
    };
    const RunResult gpu = runTrainer(config(true, poisoned()));
    const RunResult cpu = runTrainer(config(false, poisoned()));
    ASSERT_EQ(cpu.state, TrainerState::Stopped) << "the CPU run did not pause";
    ASSERT_EQ(gpu.state, TrainerState::Stopped) << "the GPU run did not pause";
    const auto at = cpu.problem.find("training paused at step ");
    ASSERT_NE(at, std::string::npos) << cpu.problem;
    const int64_t badStep = std::stoll(cpu.problem.substr(at + 24));
    EXPECT_NE(gpu.problem.find("training paused at step " + std::to_string(badStep) + ":"),
              std::string::npos)
        << gpu.problem;
    // Every good step before it reported, none after it.
    ASSERT_EQ(gpu.losses.size(), size_t(badStep - 1));
    if (!gpu.losses.empty()) {
        EXPECT_EQ(gpu.losses.rbegin()->first, badStep - 1);
    }
    EXPECT_LE(maxWeightDifference(gpu.weights, cpu.weights), 1e-3f);
}

}  // namespace
}  // namespace strata::gpu::test

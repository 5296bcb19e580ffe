// Fused optimizer updates against torch.optim, and the learning-rate schedules.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/engine/cpu_math.h"
#include "core/engine/program.h"
#include "core/train/optimizer.h"

namespace strata::test {
namespace {

nlohmann::json loadOptimizerFixtures() {
    std::ifstream f(std::string(STRATA_SOURCE_DIR) + "/tests/fixtures/optimizers.json");
    EXPECT_TRUE(f.good());
    return nlohmann::json::parse(f);
}

TEST(Optimizers, MatchTorchOptimOverSeveralSteps) {
    auto fixtures = loadOptimizerFixtures();
    ASSERT_GE(fixtures["cases"].size(), 8u);
    for (const auto& c : fixtures["cases"]) {
        SCOPED_TRACE(c["name"].get<std::string>());
        const auto& s = c["settings"];
        OptimizerSettings o;
        o.name = c["optimizer"];
        o.learningRate = s.value("lr", 0.0);
        o.momentum = s.value("momentum", 0.0);
        o.nesterov = s.value("nesterov", false);
        o.weightDecay = s.value("weight_decay", 0.0);
        o.beta1 = s.value("beta1", 0.9);
        o.beta2 = s.value("beta2", 0.999);
        o.alpha = s.value("alpha", 0.99);
        o.eps = s.value("eps", 1e-8);
        std::vector<float> p = c["params"].get<std::vector<float>>();
        const int64_t n = static_cast<int64_t>(p.size());
        std::vector<float> state(static_cast<size_t>(optimizerStateSlots(o) * n), 0.0f);
        for (size_t k = 0; k < c["grads"].size(); ++k) {
            std::vector<float> g = c["grads"][k].get<std::vector<float>>();
            optimizerUpdate(o, static_cast<float>(o.learningRate), static_cast<int64_t>(k + 1),
                            p.data(), g.data(), state.data(), n);
            std::vector<float> want = c["after"][k].get<std::vector<float>>();
            for (int64_t i = 0; i < n; ++i) {
                EXPECT_NEAR(p[size_t(i)], want[size_t(i)], 1e-5)
                    << "step " << k + 1 << " [" << i << "]";
            }
        }
    }
}

// The arena update runs in vectorised chunks on both threads; each element must still get exactly
// the update it gets alone (the chunk edges, the vector loops' tails and the first step's
// momentum start are where a slip would show).
TEST(Optimizers, ArenaUpdateOnTwoThreadsEqualsEachElementAlone) {
    const std::vector<OptimizerSettings> optimizers = {
        {.name = "sgd", .momentum = 0.9},
        {.name = "sgd", .momentum = 0.9, .nesterov = true, .weightDecay = 1e-3},
        {.name = "sgd", .weightDecay = 1e-2},
        {.name = "adam"},
        {.name = "adamw", .weightDecay = 0.01},
        {.name = "rmsprop", .momentum = 0.5, .alpha = 0.9}};
    cpu::setThreads(2);
    const int64_t n = 70001;  // several 16k chunks and a ragged last one
    for (const auto& o : optimizers) {
        SCOPED_TRACE(o.name + (o.nesterov ? " nesterov" : ""));
        const int slots = optimizerStateSlots(o);
        std::vector<float> p(static_cast<size_t>(n)), single;
        for (int64_t i = 0; i < n; ++i) p[size_t(i)] = std::sin(0.37f * float(i));
        single = p;
        std::vector<float> state(size_t(slots * n), 0.0f), singleState = state;
        for (int64_t step = 1; step <= 3; ++step) {
            std::vector<float> g(static_cast<size_t>(n));
            for (int64_t i = 0; i < n; ++i) g[size_t(i)] = std::cos(0.11f * float(i * step));
            optimizerUpdate(o, 0.01f, step, p.data(), g.data(), state.data(), n);
            for (int64_t i = 0; i < n; ++i) {
                float s[2] = {};  // this element's state slots
                for (int k = 0; k < slots; ++k) s[k] = singleState[size_t(k * n + i)];
                optimizerUpdate(o, 0.01f, step, &single[size_t(i)], &g[size_t(i)], s, 1);
                for (int k = 0; k < slots; ++k) singleState[size_t(k * n + i)] = s[k];
            }
            for (int64_t i = 0; i < n; ++i) {
                ASSERT_FLOAT_EQ(p[size_t(i)], single[size_t(i)])
                    << "step " << step << " [" << i << "]";
            }
            for (size_t i = 0; i < state.size(); ++i) {
                ASSERT_FLOAT_EQ(state[i], singleState[i]) << "step " << step << " state " << i;
            }
        }
    }
    cpu::setThreads(0);
}

TEST(Schedules, FollowTheirFormulas) {
    ScheduleSettings constant;
    EXPECT_DOUBLE_EQ(scheduledLearningRate(constant, 0.1, 500, 10, 1000), 0.1);

    ScheduleSettings step{.kind = "step", .stepSize = 2, .gamma = 0.5};
    EXPECT_DOUBLE_EQ(scheduledLearningRate(step, 0.1, 19, 10, 100), 0.1);    // epoch 1
    EXPECT_DOUBLE_EQ(scheduledLearningRate(step, 0.1, 20, 10, 100), 0.05);   // epoch 2
    EXPECT_DOUBLE_EQ(scheduledLearningRate(step, 0.1, 45, 10, 100), 0.025);  // epoch 4

    ScheduleSettings exp{.kind = "exponential", .gamma = 0.9};
    EXPECT_NEAR(scheduledLearningRate(exp, 1.0, 30, 10, 100), 0.729, 1e-12);

    ScheduleSettings cosine{.kind = "cosine", .minLearningRate = 0.01};
    EXPECT_DOUBLE_EQ(scheduledLearningRate(cosine, 0.1, 0, 10, 100), 0.1);
    EXPECT_NEAR(scheduledLearningRate(cosine, 0.1, 50, 10, 100), 0.055, 1e-12);
    EXPECT_NEAR(scheduledLearningRate(cosine, 0.1, 100, 10, 100), 0.01, 1e-12);

    ScheduleSettings warm{.kind = "cosine", .warmupSteps = 10};
    EXPECT_NEAR(scheduledLearningRate(warm, 0.1, 0, 10, 110), 0.01, 1e-12);
    EXPECT_NEAR(scheduledLearningRate(warm, 0.1, 4, 10, 110), 0.05, 1e-12);
    EXPECT_NEAR(scheduledLearningRate(warm, 0.1, 10, 10, 110), 0.1, 1e-12);  // cosine starts
    EXPECT_NEAR(scheduledLearningRate(warm, 0.1, 60, 10, 110), 0.05, 1e-12);
}

}  // namespace
}  // namespace strata::test

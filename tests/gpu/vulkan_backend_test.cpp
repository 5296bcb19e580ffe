// The Vulkan backend over whole compiled programs: the same results as the CPU backend, a step
// recorded once and replayed, partial batches, and the sentences a person gets when a model does
// not fit.
#include <algorithm>
#include <cmath>

#include "core/engine/cpu_backend.h"
#include "core/engine/program.h"
#include "gpu/vulkan_backend.h"
#include "gpu_fixture.h"
#include "train/train_helpers.h"

namespace strata::gpu::test {
namespace {

using strata::test::mustAdd;
using strata::test::mustConnect;

// x (N, 12) -> fc1 (20) -> gelu -> fc2 (5): no loss, forward only.
Graph inferenceGraph() {
    Graph g;
    GraphEdit e(g);
    NodeId x = mustAdd(e, "input", "x", {{"shape", std::vector<int64_t>{12}}});
    NodeId fc1 = mustAdd(e, "linear", "fc1", {{"out_features", int64_t{20}}});
    NodeId act = mustAdd(e, "gelu", "act");
    NodeId fc2 = mustAdd(e, "linear", "fc2", {{"out_features", int64_t{5}}});
    mustConnect(e, x, "out", fc1, "in");
    mustConnect(e, fc1, "out", act, "in");
    mustConnect(e, act, "out", fc2, "in");
    return g;
}

class VulkanBackendTest : public GpuTest {
protected:
    std::unique_ptr<VulkanBackend> backend() {
        auto b = VulkanBackend::create(gpuContext().instance, dev().info().index);
        EXPECT_TRUE(b.ok()) << b.message();
        return b ? std::move(*b) : nullptr;
    }
};

TEST_F(VulkanBackendTest, ForwardMatchesTheCpuBackendIncludingAPartialBatch) {
    auto p = compile(inferenceGraph(), 8, {.training = false});
    ASSERT_TRUE(p.ok()) << p.message();
    auto gpu = backend();
    ASSERT_TRUE(gpu);
    CpuBackend cpu;
    ASSERT_TRUE(gpu->prepare(*p).ok());
    ASSERT_TRUE(cpu.prepare(*p).ok());
    const auto params = initialParameters(*p, 5);
    ASSERT_TRUE(gpu->uploadParameters(params).ok());
    ASSERT_TRUE(cpu.uploadParameters(params).ok());
    const TensorId out = *p->output("fc2");
    for (int64_t n : {8, 3, 8}) {
        SCOPED_TRACE("batch " + std::to_string(n));
        const auto x = randomFloats(size_t(n * 12), uint32_t(n));
        ASSERT_TRUE(gpu->setInput("x", x, n).ok());
        ASSERT_TRUE(cpu.setInput("x", x, n).ok());
        ASSERT_TRUE(gpu->runForward({.batch = n}, Mode::Eval).ok());
        ASSERT_TRUE(cpu.runForward({.batch = n}, Mode::Eval).ok());
        auto g = gpu->download(out, n);
        auto c = cpu.download(out, n);
        ASSERT_TRUE(g.ok() && c.ok());
        EXPECT_LE(maxRelError(*g, *c), 1e-5f);
    }
    // Batches 8 and 3 were recorded once each; the second batch of 8 replayed.
    EXPECT_EQ(gpu->recordings(), 2u);
    const auto back = gpu->downloadParameters();
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, params);
}

TEST_F(VulkanBackendTest, AModelThatDoesNotFitIsRefusedWithTheSizeAndTheRemedy) {
    auto p = compile(inferenceGraph(), int64_t(1) << 31, {.training = false});
    ASSERT_TRUE(p.ok()) << p.message();
    auto gpu = backend();
    ASSERT_TRUE(gpu);
    auto r = gpu->prepare(*p);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("the activations needs"), std::string::npos) << r.message();
    EXPECT_NE(r.message().find("smaller batch"), std::string::npos) << r.message();
}

struct TrainRun {
    std::vector<float> losses, norms;
    std::vector<float> parameters;
};

// Trains mlpGraph for `steps` steps on fixed batches (a partial one every fourth step).
TrainRun train(Backend& b, const Program& p, int steps, float clip) {
    TrainRun run;
    EXPECT_TRUE(b.prepare(p).ok());
    EXPECT_TRUE(b.uploadParameters(initialParameters(p, 3)).ok());
    for (int s = 0; s < steps; ++s) {
        const int64_t n = s % 4 == 3 ? 5 : p.batch;
        auto x = randomFloats(size_t(n * 6), uint32_t(100 + s), -2.0f, 2.0f);
        std::vector<float> y(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) y[size_t(i)] = float((i + s) % 3);
        EXPECT_TRUE(b.setInput("x", x, n).ok());
        EXPECT_TRUE(b.setInput("y", y, n).ok());
        const StepValues v{.learningRate = 0.02f, .step = s + 1, .seed = uint64_t(s) << 40 | 7,
                           .batch = n, .clipNorm = clip};
        auto r = b.trainStep(v);
        EXPECT_TRUE(r.ok()) << r.message();
        if (!r) break;
        EXPECT_TRUE(r->applied);
        if (r->correct >= 0) {  // measured on the device: the same count as from the logits
            const auto logits = b.download(*p.output("fc2"), n).value();  // (n, 1, 3)
            int64_t correct = 0;
            for (int64_t i = 0; i < n; ++i) {
                const float* row = &logits[size_t(i * 3)];
                const int64_t arg = std::max_element(row, row + 3) - row;
                correct += arg == int64_t(y[size_t(i)]);
            }
            EXPECT_EQ(r->correct, correct) << "step " << s;
            EXPECT_EQ(r->counted, n);
        }
        run.losses.push_back(r->loss);
        run.norms.push_back(r->gradNorm);
    }
    run.parameters = b.downloadParameters().value();
    return run;
}

TEST_F(VulkanBackendTest, TwentyTrainingStepsAgreeWithTheCpuForEveryOptimizer) {
    const std::vector<OptimizerSettings> optimizers = {
        {.name = "sgd", .momentum = 0.9, .nesterov = true, .weightDecay = 1e-3},
        {.name = "adam"},
        {.name = "adamw", .weightDecay = 0.01},
        {.name = "rmsprop", .momentum = 0.5, .alpha = 0.9}};
    for (const auto& o : optimizers) {
        for (float clip : {0.0f, 0.5f}) {
            SCOPED_TRACE(o.name + " clip " + std::to_string(clip));
            auto p = compile(strata::test::mlpGraph(6, 24, 3), 16, {.optimizer = o});
            ASSERT_TRUE(p.ok()) << p.message();
            auto gpu = backend();
            ASSERT_TRUE(gpu);
            CpuBackend cpu;
            const TrainRun g = train(*gpu, *p, 20, clip);
            const TrainRun c = train(cpu, *p, 20, clip);
            ASSERT_EQ(g.losses.size(), 20u);
            EXPECT_LE(maxRelError(g.losses, c.losses), 1e-3f);
            // Adam's m / sqrt(v) turns rounding differences of tiny gradients into whole steps,
            // so norms and weights drift apart a little faster than the losses.
            EXPECT_LE(maxRelError(g.norms, c.norms), 1e-2f);
            EXPECT_LE(maxRelError(g.parameters, c.parameters), 1e-2f);
            EXPECT_LT(c.losses.back(), c.losses.front());
            // One recording per batch size and step slot (batches of 16 in both slots, of 5 in
            // the second); every other step replayed.
            EXPECT_EQ(gpu->recordings(), 3u);
        }
    }
}

TEST_F(VulkanBackendTest, DropoutMasksFollowTheStepSeedLikeTheCpu) {
    // mlpGraph with dropout before the read-out: every replayed step must draw the CPU's mask.
    Graph g = strata::test::mlpGraph(6, 24, 3);
    {
        GraphEdit e(g);
        const NodeId act = g.nodeByName("act1")->id, fc2 = g.nodeByName("fc2")->id;
        ASSERT_TRUE(e.disconnect(g.linkInto(fc2, "in")->id).ok());
        NodeId drop = mustAdd(e, "dropout", "drop", {{"p", 0.3}});
        mustConnect(e, act, "out", drop, "in");
        mustConnect(e, drop, "out", fc2, "in");
    }
    auto p = compile(g, 16, {.optimizer = {.name = "sgd", .momentum = 0.9}});
    ASSERT_TRUE(p.ok()) << p.message();
    auto gpu = backend();
    ASSERT_TRUE(gpu);
    CpuBackend cpu;
    const TrainRun a = train(*gpu, *p, 8, 0.0f);
    const TrainRun b = train(cpu, *p, 8, 0.0f);
    ASSERT_EQ(a.losses.size(), 8u);
    EXPECT_LE(maxRelError(a.losses, b.losses), 1e-4f);
}

TEST_F(VulkanBackendTest, ANonFiniteStepKeepsTheLastGoodWeights) {
    auto p = compile(strata::test::mlpGraph(6, 8, 3), 4, {.optimizer = {.name = "adam"}});
    ASSERT_TRUE(p.ok()) << p.message();
    auto gpu = backend();
    ASSERT_TRUE(gpu && gpu->prepare(*p).ok());
    auto params = initialParameters(*p, 1);
    const size_t poisoned = size_t(p->tensor(*p->find("fc2.bias")).offset);
    params[poisoned] = std::nanf("");  // every logit of class 0 becomes NaN
    ASSERT_TRUE(gpu->uploadParameters(params).ok());
    ASSERT_TRUE(gpu->setInput("x", randomFloats(24, 1), 4).ok());
    ASSERT_TRUE(gpu->setInput("y", std::vector<float>{0, 1, 2, 0}, 4).ok());
    auto r = gpu->trainStep({.learningRate = 0.1f, .step = 1, .batch = 4});
    ASSERT_TRUE(r.ok()) << r.message();
    EXPECT_FALSE(r->applied);
    EXPECT_TRUE(std::isnan(r->loss));
    auto after = gpu->downloadParameters();
    ASSERT_TRUE(after.ok());
    EXPECT_TRUE(std::isnan((*after)[poisoned]));
    for (size_t i = 0; i < params.size(); ++i) {
        if (i != poisoned) {
            ASSERT_EQ((*after)[i], params[i]) << i;
        }
    }
    EXPECT_EQ(gpu->downloadOptimizerState().value(),
              std::vector<float>(gpu->downloadOptimizerState().value().size(), 0.0f));
}

TEST_F(VulkanBackendTest, AResidentDatasetGathersEachBatchOnTheDevice) {
    auto p = compile(inferenceGraph(), 4, {.training = false});
    ASSERT_TRUE(p.ok()) << p.message();
    auto gpu = backend();
    ASSERT_TRUE(gpu && gpu->prepare(*p).ok());
    ASSERT_TRUE(gpu->keepsDataResident());
    const int64_t rows = 10;
    const auto data = randomFloats(size_t(rows * 12), 3);
    auto kept = gpu->makeResident(0, "x", data, rows);
    ASSERT_TRUE(kept.ok()) << kept.message();
    ASSERT_TRUE(*kept);
    const TensorId x = p->inputs[0].tensor;
    for (const std::vector<int64_t>& pick : {std::vector<int64_t>{9, 0, 4, 4}, {7, 2}}) {
        ASSERT_TRUE(gpu->selectRows(0, pick).ok());
        const int64_t n = int64_t(pick.size());
        auto got = gpu->download(x, n);
        ASSERT_TRUE(got.ok());
        for (int64_t i = 0; i < n; ++i) {
            for (int64_t k = 0; k < 12; ++k) {
                ASSERT_EQ((*got)[size_t(i * 12 + k)], data[size_t(pick[size_t(i)] * 12 + k)]);
            }
        }
    }
    EXPECT_FALSE(gpu->selectRows(1, std::vector<int64_t>{0}).ok());  // no validation set kept
    EXPECT_FALSE(gpu->makeResident(0, "x", data, rows + 1).ok());     // count does not match
}

// A resident classification set of `rows` samples for mlpGraph(6, hidden, 3); rows listed in
// `infinite` hold an infinite feature.
void makeResidentMlpData(VulkanBackend& gpu, int64_t rows, std::vector<int64_t> infinite = {}) {
    auto x = randomFloats(size_t(rows * 6), 11, -2.0f, 2.0f);
    for (int64_t r : infinite) x[size_t(r * 6)] = INFINITY;
    std::vector<float> y(static_cast<size_t>(rows));
    for (int64_t i = 0; i < rows; ++i) y[size_t(i)] = float(i % 3);
    ASSERT_TRUE(gpu.makeResident(0, "x", x, rows).value());
    ASSERT_TRUE(gpu.makeResident(0, "y", y, rows).value());
}

std::vector<int64_t> batchRows(int step, int64_t n, int64_t rows) {
    std::vector<int64_t> pick(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) pick[size_t(i)] = (step * 7 + i * 3) % rows;
    return pick;
}

TEST_F(VulkanBackendTest, QueuedStepsGiveTheResultsOfStepsRunOneByOne) {
    auto p = compile(strata::test::mlpGraph(6, 16, 3), 8, {.optimizer = {.name = "adam"}});
    ASSERT_TRUE(p.ok()) << p.message();
    const int steps = 12;
    std::vector<StepResult> oneByOne, queued;
    std::vector<float> paramsOneByOne;
    for (bool pipelined : {false, true}) {
        auto gpu = backend();
        ASSERT_TRUE(gpu && gpu->prepare(*p).ok());
        ASSERT_TRUE(gpu->uploadParameters(initialParameters(*p, 5)).ok());
        makeResidentMlpData(*gpu, 40);
        auto& out = pipelined ? queued : oneByOne;
        for (int s = 0; s < steps; ++s) {
            const int64_t n = s % 5 == 4 ? 3 : 8;
            ASSERT_TRUE(gpu->selectRows(0, batchRows(s, n, 40)).ok());
            const StepValues v{.learningRate = 0.01f, .step = s + 1, .seed = uint64_t(s),
                               .batch = n};
            if (!pipelined) {
                out.push_back(gpu->trainStep(v).value());
                continue;
            }
            ASSERT_TRUE(gpu->queueStep(v).ok());
            // A step's result comes back once it has finished, never before it was queued.
            const auto done = gpu->finishedSteps(false).value();
            out.insert(out.end(), done.begin(), done.end());
            EXPECT_LE(out.size(), size_t(s + 1));
        }
        if (pipelined) {
            const auto rest = gpu->finishedSteps(true).value();
            out.insert(out.end(), rest.begin(), rest.end());
            EXPECT_TRUE(gpu->finishedSteps(true).value().empty());
        }
        const auto params = gpu->downloadParameters().value();
        // The host copy of the last completed step is the device's weights.
        EXPECT_EQ(gpu->lastCompletedParameters(), params);
        if (pipelined) {
            EXPECT_EQ(params, paramsOneByOne);
        } else {
            paramsOneByOne = params;
        }
    }
    ASSERT_EQ(queued.size(), oneByOne.size());
    for (size_t i = 0; i < queued.size(); ++i) {
        EXPECT_EQ(queued[i].loss, oneByOne[i].loss) << i;
        EXPECT_EQ(queued[i].gradNorm, oneByOne[i].gradNorm) << i;
        EXPECT_EQ(queued[i].correct, oneByOne[i].correct) << i;
        EXPECT_TRUE(queued[i].applied);
    }
}

TEST_F(VulkanBackendTest, AStepQueuedBehindABadOneKeepsTheWeightsToo) {
    auto p = compile(strata::test::mlpGraph(6, 8, 3), 4, {.optimizer = {.name = "sgd"}});
    ASSERT_TRUE(p.ok()) << p.message();
    auto gpu = backend();
    ASSERT_TRUE(gpu && gpu->prepare(*p).ok());
    const auto start = initialParameters(*p, 2);
    ASSERT_TRUE(gpu->uploadParameters(start).ok());
    makeResidentMlpData(*gpu, 8, {1});  // the batch of rows 0-3 has an infinite input
    const std::vector<int64_t> bad = {0, 1, 2, 3}, good = {4, 5, 6, 7};
    for (const auto* rows : {&bad, &good}) {
        ASSERT_TRUE(gpu->selectRows(0, *rows).ok());
        ASSERT_TRUE(gpu->queueStep({.learningRate = 0.1f, .step = 1, .batch = 4}).ok());
    }
    auto results = gpu->finishedSteps(true).value();
    ASSERT_EQ(results.size(), 2u);
    EXPECT_FALSE(results[0].applied);
    EXPECT_FALSE(std::isfinite(results[0].loss));
    EXPECT_TRUE(std::isfinite(results[1].loss));  // fine on its own, but behind the bad one
    EXPECT_FALSE(results[1].applied);
    EXPECT_EQ(gpu->downloadParameters().value(), start);
    EXPECT_EQ(gpu->lastCompletedParameters(), start);
    // With nothing in flight any more, the good batch trains again.
    ASSERT_TRUE(gpu->selectRows(0, good).ok());
    ASSERT_TRUE(gpu->queueStep({.learningRate = 0.1f, .step = 1, .batch = 4}).ok());
    results = gpu->finishedSteps(true).value();
    ASSERT_EQ(results.size(), 1u);
    EXPECT_TRUE(results[0].applied);
    EXPECT_NE(gpu->downloadParameters().value(), start);
}

}  // namespace
}  // namespace strata::gpu::test

// The compiled program: op order, gradient routing, the activation memory plan, and a
// whole-graph gradient check of the CPU backend's forward and backward.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "core/engine/cpu_backend.h"
#include "core/engine/program.h"
#include "core/io/document.h"
#include "train/train_helpers.h"

namespace strata::test {
namespace {

std::vector<std::string> opNames(const std::vector<ProgramOp>& ops) {
    std::vector<std::string> out;
    for (const auto& op : ops) out.push_back(op.name);
    return out;
}

TEST(EngineProgram, OrdersForwardTopologicallyAndBackwardInReverse) {
    auto p = compile(mlpGraph(), 8);
    ASSERT_TRUE(p.ok()) << p.message();
    EXPECT_EQ(opNames(p->forward), (std::vector<std::string>{"fc1", "act1", "fc2", "loss"}));
    EXPECT_EQ(opNames(p->backward), (std::vector<std::string>{"loss", "fc2", "act1", "fc1"}));
    // The data input gets no gradient; the targets neither.
    const ProgramOp& fc1 = p->backward.back();
    ASSERT_EQ(fc1.gradInputs.size(), 1u);
    EXPECT_FALSE(fc1.gradInputs[0].valid());
    EXPECT_FALSE(p->backward.front().gradInputs[1].valid());
    EXPECT_EQ(p->tensor(*p->find("fc1.out")).shape, (Shape{8, 1, 16}));
    EXPECT_EQ(p->tensor(p->loss).shape, Shape{});
    ASSERT_EQ(p->inputs.size(), 2u);
}

TEST(EngineProgram, KeepsParametersAndGradientsInOneArenaEach) {
    auto p = compile(mlpGraph(4, 16, 3), 8, {.optimizer = {.name = "adam"}});
    ASSERT_TRUE(p.ok()) << p.message();
    ASSERT_EQ(p->parameters.size(), 4u);  // fc1.weight, fc1.bias, fc2.weight, fc2.bias
    int64_t end = 0;
    for (TensorId id : p->parameters) {
        const ProgramTensor& t = p->tensor(id);
        EXPECT_GE(t.offset, end) << t.name;
        end = t.offset + t.numel;
        ASSERT_TRUE(t.gradient.valid());
        EXPECT_EQ(p->tensor(t.gradient).offset, t.offset);
        EXPECT_EQ(p->tensor(t.gradient).arena, Arena::Gradients);
    }
    EXPECT_LE(end, p->trainableFloats);
    EXPECT_EQ(p->optimizerState.size(), 2u);  // exp_avg, exp_avg_sq
}

TEST(EngineProgram, NeverOverlapsTwoLiveTensors) {
    // A deeper chain so the plan has something to reuse.
    Graph g;
    GraphEdit e(g);
    NodeId prev = mustAdd(e, "input", "x", {{"shape", std::vector<int64_t>{32}}});
    std::string port = "out";
    for (int i = 0; i < 6; ++i) {
        NodeId fc = mustAdd(e, "linear", "fc" + std::to_string(i), {{"out_features", int64_t{32}}});
        mustConnect(e, prev, port, fc, "in");
        NodeId act = mustAdd(e, "relu", "act" + std::to_string(i));
        mustConnect(e, fc, "out", act, "in");
        prev = act;
    }
    NodeId y = mustAdd(e, "input", "y",
                       {{"field", std::string("y")}, {"shape", std::vector<int64_t>{32}}});
    NodeId loss = mustAdd(e, "mse", "loss");
    mustConnect(e, prev, "out", loss, "input");
    mustConnect(e, y, "out", loss, "target");
    for (bool training : {true, false}) {
        auto p = compile(g, 16, {.training = training});
        ASSERT_TRUE(p.ok()) << p.message();
        std::vector<const ProgramTensor*> act;
        for (const auto& t : p->tensors) {
            if (t.arena == Arena::Activations) act.push_back(&t);
        }
        for (size_t i = 0; i < act.size(); ++i) {
            EXPECT_LE(act[i]->offset + act[i]->numel, p->activationFloats);
            for (size_t j = i + 1; j < act.size(); ++j) {
                const auto *a = act[i], *b = act[j];
                const bool liveTogether = a->firstUse <= b->lastUse && b->firstUse <= a->lastUse;
                const bool share =
                    a->offset < b->offset + b->numel && b->offset < a->offset + a->numel;
                EXPECT_FALSE(liveTogether && share) << a->name << " and " << b->name;
            }
        }
        EXPECT_LT(p->activationFloats, p->unplannedActivationFloats);
    }
}

// A hand-made schedule where the first gap that fits is the wrong one: (size in units of 64
// floats, first use, last use). Placed largest first, first-fit puts the 4-unit tensor alive at
// position 1 into the low gap that the 3-unit tensor needs later and the arena grows to 22
// units; best-fit keeps it at 19, the most alive at one position.
TEST(EngineProgram, PlansBestFitWhereFirstFitWouldGrowTheArena) {
    struct Life {
        int64_t units;
        int first, last;
    };
    const std::vector<Life> lives = {{1, 2, 2}, {4, 2, 5}, {3, 0, 2}, {4, 1, 4},
                                     {5, 0, 6}, {4, 1, 1}, {6, 4, 6}};
    Program p;
    p.batch = 1;
    for (const Life& l : lives) {
        ProgramTensor t;
        t.id = TensorId(static_cast<uint32_t>(p.tensors.size() + 1));
        t.name = "t" + std::to_string(p.tensors.size());
        t.numel = 64 * l.units;
        t.shape = Shape{t.numel};
        t.firstUse = l.first;
        t.lastUse = l.last;
        p.tensors.push_back(t);
    }
    ProgramOp op;
    p.forward.assign(7, op);  // positions 0..6
    planActivations(p);
    EXPECT_EQ(peakLiveActivationFloats(p), 19 * 64);
    EXPECT_EQ(p.activationFloats, 19 * 64);
    for (size_t i = 0; i < p.tensors.size(); ++i) {
        for (size_t j = i + 1; j < p.tensors.size(); ++j) {
            const ProgramTensor &a = p.tensors[i], &b = p.tensors[j];
            const bool liveTogether = a.firstUse <= b.lastUse && b.firstUse <= a.lastUse;
            const bool share = a.offset < b.offset + b.numel && b.offset < a.offset + a.numel;
            EXPECT_FALSE(liveTogether && share) << a.name << " and " << b.name;
        }
    }
}

// The benchmark models (bench/W*.strata.json): their activation arenas are what training needs
// at its busiest moment, no more, so peak memory stays near what backward needs.
TEST(EngineProgram, BenchmarkArenasNeedNoMoreThanTheBusiestPosition) {
    for (const char* id : {"W1", "W2", "W3", "W4"}) {
        SCOPED_TRACE(id);
        auto doc = readDocument(std::filesystem::path(STRATA_SOURCE_DIR) / "bench" /
                                (std::string(id) + ".strata.json"));
        ASSERT_TRUE(doc.ok()) << doc.message();
        auto p = compile(doc->graph, doc->training.batchSize,
                         {.optimizer = doc->training.optimizer});
        ASSERT_TRUE(p.ok()) << p.message();
        EXPECT_EQ(p->activationFloats, peakLiveActivationFloats(*p));
        EXPECT_LT(p->activationFloats, p->unplannedActivationFloats);
    }
}

// Loss of the compiled program at the current parameter arena.
float lossAt(CpuBackend& b, const std::vector<float>& arena, int64_t n) {
    EXPECT_TRUE(b.uploadParameters(arena).ok());
    EXPECT_TRUE(b.runForward({.batch = n}, Mode::Train).ok());
    return *b.loss();
}

// Analytic gradients of every trainable parameter against central differences of the whole
// compiled program, evaluated with a partial batch to cover the batch view too.
double wholeGraphGradError(const Graph& g, std::map<std::string, Tensor> data, int64_t n,
                           int64_t compiledBatch) {
    auto p = compile(g, compiledBatch, {.optimizer = {.name = "sgd"}});
    EXPECT_TRUE(p.ok()) << p.message();
    if (!p.ok()) return 1e9;
    CpuBackend b(1);
    EXPECT_TRUE(b.prepare(*p).ok());
    std::vector<float> arena = initialParameters(*p, 3);
    for (auto& [field, t] : data) EXPECT_TRUE(b.setInput(field, t.data, n).ok());
    (void)lossAt(b, arena, n);
    EXPECT_TRUE(b.runBackward({.batch = n}).ok());
    double worst = 0;
    for (TensorId id : p->parameters) {
        const ProgramTensor& w = p->tensor(id);
        std::vector<float> analytic = *b.download(w.gradient, n);
        for (int64_t i = 0; i < w.numel; ++i) {
            const float eps = 1e-2f;
            std::vector<float> plus = arena, minus = arena;
            plus[static_cast<size_t>(w.offset + i)] += eps;
            minus[static_cast<size_t>(w.offset + i)] -= eps;
            const double numeric = (double(lossAt(b, plus, n)) - lossAt(b, minus, n)) / (2 * eps);
            const double err = std::abs(numeric - analytic[static_cast<size_t>(i)]) /
                               std::max(1.0, std::abs(numeric));
            worst = std::max(worst, err);
        }
    }
    return worst;
}

TEST(EngineProgram, WholeGraphGradientsMatchFiniteDifferences) {
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> u(-1, 1);
    Tensor x(Shape{5, 1, 4}), y(Shape{5, 1});
    for (auto& v : x.data) v = u(rng);
    for (size_t i = 0; i < y.data.size(); ++i) y.data[i] = float(i % 3);
    // 5 samples in a program compiled for 8: the partial-batch view.
    EXPECT_LT(wholeGraphGradError(mlpGraph(4, 6, 3), {{"x", x}, {"y", y}}, 5, 8), 3e-3);
}

TEST(EngineProgram, SumsGradientsOfATensorFeedingTwoConsumers) {
    auto p = compile(fanOutGraph(), 4);
    ASSERT_TRUE(p.ok()) << p.message();
    // fc1.out's gradient is written by both the loss (target) and fc2's backward.
    TensorId g = p->tensor(*p->find("fc1.out")).gradient;
    int writers = 0;
    for (const auto& op : p->backward) {
        for (TensorId t : op.gradInputs) writers += t == g;
    }
    EXPECT_EQ(writers, 2);
    std::mt19937 rng(9);
    std::uniform_real_distribution<float> u(-1, 1);
    Tensor x(Shape{4, 3});
    for (auto& v : x.data) v = u(rng);
    EXPECT_LT(wholeGraphGradError(fanOutGraph(), {{"x", x}}, 4, 4), 3e-3);
}

TEST(EngineProgram, PartialBatchGivesTheLossOfASmallerCompile) {
    std::mt19937 rng(2);
    std::uniform_real_distribution<float> u(-1, 1);
    Tensor x(Shape{3, 1, 4}), y(Shape{3, 1}, std::vector<float>{0, 2, 1});
    for (auto& v : x.data) v = u(rng);
    float losses[2];
    int k = 0;
    for (int64_t compiled : {8, 3}) {
        auto p = compile(mlpGraph(), compiled);
        ASSERT_TRUE(p.ok());
        CpuBackend b(1);
        ASSERT_TRUE(b.prepare(*p).ok());
        ASSERT_TRUE(b.uploadParameters(initialParameters(*p, 1)).ok());
        ASSERT_TRUE(b.setInput("x", x.data, 3).ok());
        ASSERT_TRUE(b.setInput("y", y.data, 3).ok());
        ASSERT_TRUE(b.runForward({.batch = 3}, Mode::Eval).ok());
        losses[k++] = *b.loss();
    }
    EXPECT_FLOAT_EQ(losses[0], losses[1]);
}

TEST(EngineProgram, RefusesGraphsThatCannotTrain) {
    Graph g;
    GraphEdit e(g);
    NodeId x = mustAdd(e, "input", "x", {{"shape", std::vector<int64_t>{4}}});
    NodeId fc = mustAdd(e, "linear", "fc");
    mustConnect(e, x, "out", fc, "in");
    auto p = compile(g, 4);
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.message().find("no loss"), std::string::npos) << p.message();
    EXPECT_TRUE(compile(g, 4, {.training = false}).ok());  // forward-only is fine
    auto bad = compile(mlpGraph(), 4, {.optimizer = {.name = "lbfgs"}});
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.message().find("lbfgs"), std::string::npos);
}

TEST(EngineProgram, InitialisationIsDeterministicAndFollowsTheBounds) {
    auto p = compile(mlpGraph(4, 16, 3), 2);
    ASSERT_TRUE(p.ok());
    auto a = initialParameters(*p, 7), b = initialParameters(*p, 7), c = initialParameters(*p, 8);
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    const ProgramTensor& w = p->tensor(*p->find("fc1.weight"));  // U(-1/2, 1/2) for in = 4
    float lo = 1, hi = -1;
    for (int64_t i = 0; i < w.numel; ++i) {
        lo = std::min(lo, a[size_t(w.offset + i)]);
        hi = std::max(hi, a[size_t(w.offset + i)]);
    }
    EXPECT_GE(lo, -0.5f);
    EXPECT_LE(hi, 0.5f);
    EXPECT_LT(lo, -0.3f);
    EXPECT_GT(hi, 0.3f);
}

TEST(EngineBackend, CreatesTheCpuBackendAndRefusesUnknownDevices) {
    auto cpu = createBackend("cpu");
    ASSERT_TRUE(cpu.ok());
    EXPECT_NE((*cpu)->deviceName().find("CPU"), std::string::npos);
    EXPECT_TRUE(createBackend("auto").ok());  // no GPU backend registered here: the CPU
    auto gpu = createBackend("vulkan:3");
    ASSERT_FALSE(gpu.ok());
    EXPECT_NE(gpu.message().find("--device cpu"), std::string::npos);
}

TEST(EngineBackend, TimesEveryOp) {
    auto p = compile(mlpGraph(), 4);
    ASSERT_TRUE(p.ok());
    CpuBackend b(1);
    ASSERT_TRUE(b.prepare(*p).ok());
    std::vector<float> x(16, 0.5f), y{0, 1, 2, 0};
    ASSERT_TRUE(b.setInput("x", x, 4).ok());
    ASSERT_TRUE(b.setInput("y", y, 4).ok());
    ASSERT_TRUE(b.trainStep({.learningRate = 0.1f, .batch = 4}).ok());
    auto t = b.timings();
    ASSERT_EQ(t.size(), p->forward.size() + p->backward.size() + 1);
    for (const auto& op : t) EXPECT_EQ(op.calls, 1) << op.name;
    EXPECT_EQ(t.front().name, "fc1 forward");
}

}  // namespace
}  // namespace strata::test

// The Trainer end to end on the CPU backend: learning, determinism, stop/pause/resume,
// checkpoints, and pausing on a non-finite value.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "core/engine/cpu_backend.h"
#include "core/train/trainer.h"
#include "train/train_helpers.h"

namespace strata::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

TrainerConfig mlpConfig(int64_t epochs = 4) {
    TrainerConfig c;
    c.graph = mlpGraph(4, 16, 3);
    c.settings.epochs = epochs;
    c.settings.batchSize = 32;  // 300 samples: 9 full batches and a partial one of 12
    c.settings.optimizer = {.name = "adam", .learningRate = 0.01};
    c.settings.seed = 42;
    c.settings.device = "cpu";
    c.train = blobs(300, 4, 1);
    c.validation = blobs(90, 4, 2);
    c.cpuThreads = 1;
    return c;
}

fs::path tempDir(const std::string& name) {
    fs::path d = fs::temp_directory_path() / ("strata_train_test_" + name);
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

// Losses by step number, drained from the ring.
std::map<int64_t, float> drain(Trainer& t) {
    std::map<int64_t, float> out;
    while (auto m = t.steps().pop()) out[m->step] = m->loss;
    return out;
}

std::map<int64_t, float> runToEnd(TrainerConfig c, Trainer** keep = nullptr) {
    Trainer t(std::move(c));
    auto r = t.start();
    EXPECT_TRUE(r.ok()) << r.message();
    std::map<int64_t, float> losses;
    while (t.state() == TrainerState::Running || t.state() == TrainerState::Paused) {
        auto part = drain(t);
        losses.insert(part.begin(), part.end());
        std::this_thread::sleep_for(1ms);
    }
    t.wait();
    auto part = drain(t);
    losses.insert(part.begin(), part.end());
    (void)keep;
    return losses;
}

TEST(Trainer, MlpLearnsASyntheticClassification) {
    TrainerConfig c = mlpConfig(12);
    Trainer t(std::move(c));
    ASSERT_TRUE(t.start().ok());
    std::map<int64_t, float> losses;
    while (t.state() == TrainerState::Running) {
        auto part = drain(t);
        losses.insert(part.begin(), part.end());
        std::this_thread::sleep_for(1ms);
    }
    t.wait();
    auto part = drain(t);
    losses.insert(part.begin(), part.end());
    EXPECT_EQ(t.state(), TrainerState::Finished);
    ASSERT_EQ(losses.size(), 120u);  // 12 epochs of 10 steps
    const float first = losses.begin()->second;
    auto history = t.history();
    ASSERT_EQ(history.size(), 12u);
    EXPECT_LT(history.back().trainLoss, 0.25 * first) << "first step loss " << first;
    EXPECT_GT(history.back().valAccuracy, 0.9);
    EXPECT_GT(history.back().trainAccuracy, 0.9);
    ASSERT_EQ(history.back().classes, 3);
    int64_t total = 0;
    for (int64_t v : history.back().confusion) total += v;
    EXPECT_EQ(total, 90);
    auto events = t.takeEvents();
    int epochs = 0;
    for (const auto& e : events) epochs += e.kind == TrainerEvent::Kind::EpochEnd;
    EXPECT_EQ(epochs, 12);
    EXPECT_EQ(events.back().kind, TrainerEvent::Kind::Finished);
    EXPECT_EQ(events.back().message, "completed");
    EXPECT_EQ(t.weights().at("fc1").at("weight").shape, (Shape{16, 4}));
}

TEST(Trainer, SameSeedGivesTheSameLosses) {
    auto a = runToEnd(mlpConfig(2));
    auto b = runToEnd(mlpConfig(2));
    ASSERT_EQ(a.size(), 20u);
    EXPECT_EQ(a, b);
    TrainerConfig other = mlpConfig(2);
    other.settings.seed = 43;
    EXPECT_NE(runToEnd(std::move(other)), a);
}

TEST(Trainer, ResumingFromACheckpointContinuesTheSameCurve) {
    const auto whole = runToEnd(mlpConfig(3));
    ASSERT_EQ(whole.size(), 30u);

    const fs::path dir = tempDir("resume");
    TrainerConfig first = mlpConfig(3);
    first.checkpointDir = dir;
    first.maxSteps = 13;  // mid-epoch: 3 batches into the second epoch
    auto head = runToEnd(std::move(first));
    EXPECT_EQ(head.size(), 13u);
    ASSERT_TRUE(fs::exists(dir / "last.ckpt"));
    ASSERT_TRUE(fs::exists(dir / "best.ckpt"));

    TrainerConfig second = mlpConfig(3);
    second.resumeFrom = dir / "last.ckpt";
    Trainer t(std::move(second));
    ASSERT_TRUE(t.start().ok());
    t.wait();
    auto tail = drain(t);
    EXPECT_EQ(tail.size(), 17u);
    head.insert(tail.begin(), tail.end());
    EXPECT_EQ(head, whole);
    // The interrupted epoch's metrics come out as in the uninterrupted run.
    auto reference = [] {
        Trainer r(mlpConfig(3));
        EXPECT_TRUE(r.start().ok());
        r.wait();
        return r.history();
    }();
    auto h = t.history();
    ASSERT_EQ(h.size(), 3u);
    for (size_t e = 0; e < 3; ++e) {
        EXPECT_DOUBLE_EQ(h[e].trainLoss, reference[e].trainLoss) << "epoch " << e;
        EXPECT_DOUBLE_EQ(h[e].valLoss, reference[e].valLoss) << "epoch " << e;
    }
}

TEST(Trainer, PauseResumeAndStopFromAnotherThreadKeepTheCurve) {
    // Long enough that the run cannot end before the test pauses and stops it.
    constexpr int64_t kEpochs = 300;
    const auto whole = runToEnd(mlpConfig(kEpochs));
    const fs::path dir = tempDir("stop");

    TrainerConfig c = mlpConfig(kEpochs);
    c.checkpointDir = dir;
    Trainer t(std::move(c));
    ASSERT_TRUE(t.start().ok());
    std::map<int64_t, float> seen;
    auto collect = [&] {
        auto part = drain(t);
        seen.insert(part.begin(), part.end());
    };
    ASSERT_TRUE(waitFor([&] {
        collect();
        return seen.size() >= 3;
    }));
    t.pause();
    ASSERT_TRUE(waitFor([&] { return t.state() == TrainerState::Paused; }));
    collect();
    const size_t atPause = seen.size();
    std::this_thread::sleep_for(30ms);
    collect();
    EXPECT_EQ(seen.size(), atPause) << "steps ran while paused";
    t.resume();
    ASSERT_TRUE(waitFor([&] {
        collect();
        return seen.size() >= atPause + 2;
    }));
    t.stop();
    t.wait();
    collect();
    EXPECT_EQ(t.state(), TrainerState::Stopped);
    ASSERT_LT(seen.size(), whole.size()) << "the run ended before it could be stopped";
    for (const auto& [step, loss] : seen) EXPECT_EQ(loss, whole.at(step)) << "step " << step;

    TrainerConfig again = mlpConfig(kEpochs);
    again.resumeFrom = dir / "last.ckpt";
    auto rest = runToEnd(std::move(again));
    seen.insert(rest.begin(), rest.end());
    EXPECT_EQ(seen, whole);
}

TEST(Trainer, LearningRateChangesWhileRunning) {
    // Long enough that the run cannot finish before the pause is seen; stop() ends it.
    TrainerConfig c = mlpConfig(100000);
    Trainer t(std::move(c));
    ASSERT_TRUE(t.start().ok());
    t.pause();
    ASSERT_TRUE(waitFor([&] { return t.state() == TrainerState::Paused; }));
    t.setLearningRate(0.123);
    t.resume();
    std::optional<StepMetrics> last;
    ASSERT_TRUE(waitFor([&] {
        while (auto m = t.steps().pop()) last = m;
        return last && last->learningRate == 0.123f;
    }));
    t.stop();
    t.wait();
}

TEST(Trainer, NonFiniteWeightPausesWithTheOpAndTheRemedy) {
    TrainerConfig c = mlpConfig(2);
    auto p = compile(c.graph, 32, {.optimizer = c.settings.optimizer});
    ASSERT_TRUE(p.ok());
    WeightSet w = weightsFromArena(*p, initialParameters(*p, 42));
    w["fc2"]["weight"].data[3] = std::nanf("");
    c.initialWeights = w;
    Trainer t(std::move(c));
    ASSERT_TRUE(t.start().ok());
    ASSERT_TRUE(waitFor([&] { return t.state() == TrainerState::Paused; }));
    const std::string m = t.lastProblem();
    EXPECT_NE(m.find("linear 'fc2'"), std::string::npos) << m;
    EXPECT_NE(m.find("'weight'"), std::string::npos) << m;
    EXPECT_NE(m.find("learning rate"), std::string::npos) << m;
    EXPECT_NE(m.find("clipping"), std::string::npos) << m;
    EXPECT_TRUE(t.steps().empty()) << "a non-finite step must not be reported as done";
    // The weights kept are the last good ones: fc1 untouched by the refused update.
    EXPECT_EQ(t.weights().at("fc1").at("weight"), w.at("fc1").at("weight"));
    t.stop();
    t.wait();
    EXPECT_EQ(t.state(), TrainerState::Stopped);
}

TEST(Trainer, ExplodingLearningRateNamesTheFirstOpThatOverflowed) {
    TrainerConfig c = mlpConfig(5);
    c.settings.optimizer = {.name = "sgd", .learningRate = 1e30};
    Trainer t(std::move(c));
    ASSERT_TRUE(t.start().ok());
    ASSERT_TRUE(waitFor(
        [&] { return t.state() == TrainerState::Paused || t.state() == TrainerState::Finished; }));
    ASSERT_EQ(t.state(), TrainerState::Paused);
    EXPECT_NE(t.lastProblem().find("produced a non-finite value"), std::string::npos)
        << t.lastProblem();
    t.stop();
    t.wait();
}

TEST(Trainer, RefusesDataThatDoesNotFitTheGraph) {
    TrainerConfig c = mlpConfig(1);
    c.graph = mlpGraph(5, 16, 3);  // expects 5 features, the data has 4
    Trainer t(std::move(c));
    auto r = t.start();
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("input 'x' expects samples of shape (1, 5)"), std::string::npos)
        << r.message();
}

TEST(Trainer, RefusesACheckpointOfAnotherGraph) {
    const fs::path dir = tempDir("mismatch");
    TrainerConfig c = mlpConfig(1);
    c.checkpointDir = dir;
    runToEnd(std::move(c));
    TrainerConfig other = mlpConfig(1);
    other.graph = mlpGraph(4, 8, 3);
    other.resumeFrom = dir / "last.ckpt";
    Trainer t(std::move(other));
    auto r = t.start();
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("different graph"), std::string::npos) << r.message();
}

}  // namespace
}  // namespace strata::test

namespace strata::test {
namespace {

TEST(Trainer, PublishesAttentionSnapshotsOfAFixedSample) {
    Graph g;
    GraphEdit e(g);
    NodeId tokens = mustAdd(e, "input", "tokens",
                            {{"field", std::string("tokens")},
                             {"shape", std::vector<int64_t>{4}},
                             {"dtype", std::string("int32")}});
    NodeId target = mustAdd(e, "input", "target",
                            {{"field", std::string("target")},
                             {"shape", std::vector<int64_t>{4}},
                             {"dtype", std::string("int32")}});
    NodeId emb = mustAdd(e, "embedding", "emb",
                         {{"num_embeddings", int64_t{5}}, {"embedding_dim", int64_t{8}}});
    NodeId mha = mustAdd(e, "multi_head_attention", "attn", {{"num_heads", int64_t{2}}});
    NodeId head = mustAdd(e, "linear", "head", {{"out_features", int64_t{5}}});
    NodeId loss = mustAdd(e, "cross_entropy", "loss");
    mustConnect(e, tokens, "out", emb, "in");
    mustConnect(e, emb, "out", mha, "query");
    mustConnect(e, mha, "out", head, "in");
    mustConnect(e, head, "out", loss, "input");
    mustConnect(e, target, "out", loss, "target");
    std::mt19937 rng(3);
    Tensor x(Shape{64, 4}), y(Shape{64, 4});
    for (int64_t i = 0; i < 64; ++i) {
        for (int64_t t = 0; t < 4; ++t) x.data[size_t(i * 4 + t)] = float(rng() % 5);
        for (int64_t t = 0; t < 4; ++t) y.data[size_t(i * 4 + t)] = x.data[size_t(i * 4 + 3 - t)];
    }
    auto data = TensorDataset::create({{"tokens", x}, {"target", y}},
                                      {{"tokens", DType::Int32}, {"target", DType::Int32}});
    ASSERT_TRUE(data.ok());
    TrainerConfig c;
    c.graph = g;
    c.settings.epochs = 2;
    c.settings.batchSize = 16;
    c.settings.device = "cpu";
    c.train = std::make_shared<TensorDataset>(std::move(*data));
    c.attentionEvery = 3;
    Trainer t(std::move(c));
    ASSERT_TRUE(t.start().ok()) << "";
    t.wait();
    ASSERT_EQ(t.state(), TrainerState::Finished) << t.lastProblem();
    auto snaps = t.attention().get();
    ASSERT_TRUE(snaps.has_value());
    ASSERT_EQ(snaps->size(), 1u);
    const AttentionSnapshot& s = snaps->front();
    EXPECT_EQ(s.node, "attn");
    EXPECT_EQ(s.step, 6);  // the last multiple of 3 among 8 steps
    EXPECT_EQ(s.heads, 2);
    EXPECT_EQ(s.queries, 4);
    EXPECT_EQ(s.keys, 4);
    ASSERT_EQ(s.probabilities.size(), 32u);
    for (int64_t row = 0; row < 8; ++row) {
        float sum = 0;
        for (int64_t k = 0; k < 4; ++k) sum += s.probabilities[size_t(row * 4 + k)];
        EXPECT_NEAR(sum, 1.0f, 1e-5);
    }
    EXPECT_GE(t.attention().version(), 3u);  // steps 1, 3 and 6
}

}  // namespace
}  // namespace strata::test

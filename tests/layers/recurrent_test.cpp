#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "layers/harness.h"

namespace strata::test {
namespace {

constexpr int64_t N_ = Shape::kBatch;

Params recurrentParams(int64_t hidden, int64_t layers, bool bidirectional,
                       const std::string& output, bool bias = true) {
    return {{"hidden_size", hidden},
            {"num_layers", layers},
            {"bidirectional", bidirectional},
            {"output", output},
            {"bias", bias}};
}

// ---- shape rules ----

struct ShapeCase {
    std::string name;
    std::string type;
    Params params;
    TensorType input;
    Shape want;           // when error is empty
    std::string error;    // a part of the refusal sentence
};

TEST(RecurrentShapes, FollowPyTorchAndExplainRefusals) {
    const std::vector<ShapeCase> cases = {
        {"rnn sequence", "rnn", recurrentParams(8, 1, false, "sequence"),
         {Shape{2, 5, 3}, DType::Float32}, Shape{N_, 5, 8}, ""},
        {"rnn bidirectional sequence", "rnn", recurrentParams(8, 2, true, "sequence"),
         {Shape{2, 5, 3}, DType::Float32}, Shape{N_, 5, 16}, ""},
        {"lstm last", "lstm", recurrentParams(8, 1, false, "last"),
         {Shape{2, 5, 3}, DType::Float32}, Shape{N_, 8}, ""},
        {"gru bidirectional last", "gru", recurrentParams(8, 3, true, "last"),
         {Shape{2, 5, 3}, DType::Float32}, Shape{N_, 16}, ""},
        {"embedding of a sequence", "embedding",
         {{"num_embeddings", int64_t{50}}, {"embedding_dim", int64_t{16}}},
         {Shape{2, 7}, DType::Int32}, Shape{N_, 7, 16}, ""},
        {"embedding of one id per sample", "embedding", {}, {Shape{2}, DType::Int32},
         Shape{N_, 64}, ""},
        {"rnn of a flat vector", "rnn", {}, {Shape{2, 12}, DType::Float32}, {},
         "expects a 3-D sequence (N, T, features) but 'src0' gives (N, 12); add a reshape"},
        {"gru of an image", "gru", {}, {Shape{2, 3, 4, 4}, DType::Float32}, {},
         "expects a 3-D sequence (N, T, features) but 'src0' gives (N, 3, 4, 4)"},
        {"lstm of token ids", "lstm", {}, {Shape{2, 5, 1}, DType::Int32}, {},
         "'src0' gives (N, 5, 1) of integer ids; put an embedding before it"},
        {"rnn of an empty sequence", "rnn", {}, {Shape{2, 0, 4}, DType::Float32}, {},
         "expects at least one time step and one feature (N, T, features) but 'src0' gives "
         "(N, 0, 4)"},
        {"embedding of floats", "embedding", {}, {Shape{2, 5}, DType::Float32}, {},
         "expects int32 token ids (N, ...) but 'src0' gives (N, 5) of float values"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        auto info = inferConcrete(c.type, c.params, {c.input});
        if (c.error.empty()) {
            ASSERT_TRUE(info.ok()) << info.message();
            ASSERT_EQ(info->outputs.size(), 1u);
            EXPECT_EQ(info->outputs[0].shape, c.want) << info->outputs[0].shape.str();
            EXPECT_EQ(info->outputs[0].dtype, DType::Float32);
        } else {
            ASSERT_FALSE(info.ok());
            EXPECT_NE(info.message().find(c.error), std::string::npos) << info.message();
        }
    }
}

TEST(RecurrentShapes, RefusesAnUnknownNonlinearity) {
    auto info = inferConcrete("rnn", {{"nonlinearity", std::string("sigmoid")}},
                              {{Shape{2, 3, 4}, DType::Float32}});
    EXPECT_FALSE(info.ok());
}

TEST(RecurrentWeights, CarryPyTorchNamesLayoutsAndInit) {
    auto info = inferConcrete("lstm", recurrentParams(5, 2, true, "sequence"),
                              {{Shape{2, 3, 7}, DType::Float32}});
    ASSERT_TRUE(info.ok()) << info.message();
    const std::vector<std::pair<std::string, std::vector<int64_t>>> want = {
        {"weight_ih_l0", {20, 7}},          {"weight_hh_l0", {20, 5}},
        {"bias_ih_l0", {20}},               {"bias_hh_l0", {20}},
        {"weight_ih_l0_reverse", {20, 7}},  {"weight_hh_l0_reverse", {20, 5}},
        {"bias_ih_l0_reverse", {20}},       {"bias_hh_l0_reverse", {20}},
        {"weight_ih_l1", {20, 10}},         {"weight_hh_l1", {20, 5}},
        {"bias_ih_l1", {20}},               {"bias_hh_l1", {20}},
        {"weight_ih_l1_reverse", {20, 10}}, {"weight_hh_l1_reverse", {20, 5}},
        {"bias_ih_l1_reverse", {20}},       {"bias_hh_l1_reverse", {20}},
    };
    ASSERT_EQ(info->weights.size(), want.size());
    for (size_t k = 0; k < want.size(); ++k) {
        EXPECT_EQ(info->weights[k].name, want[k].first);
        EXPECT_EQ(info->weights[k].dims, want[k].second) << want[k].first;
        EXPECT_EQ(info->weights[k].init.kind, Init::Kind::Uniform);
        EXPECT_NEAR(info->weights[k].init.b, 1.0 / std::sqrt(5.0), 1e-12);
        EXPECT_NEAR(info->weights[k].init.a, -1.0 / std::sqrt(5.0), 1e-12);
    }
    auto gru = inferConcrete("gru", recurrentParams(4, 1, false, "last", false),
                             {{Shape{2, 3, 6}, DType::Float32}});
    ASSERT_TRUE(gru.ok());
    ASSERT_EQ(gru->weights.size(), 2u);
    EXPECT_EQ(gru->weights[0].dims, (std::vector<int64_t>{12, 6}));
    EXPECT_EQ(gru->weights[1].dims, (std::vector<int64_t>{12, 4}));
    auto emb = inferConcrete("embedding", {}, {{Shape{2, 3}, DType::Int32}});
    ASSERT_TRUE(emb.ok());
    ASSERT_EQ(emb->weights.size(), 1u);
    EXPECT_EQ(emb->weights[0].name, "weight");
    EXPECT_EQ(emb->weights[0].dims, (std::vector<int64_t>{1000, 64}));
    EXPECT_EQ(emb->weights[0].init.kind, Init::Kind::Normal);
    EXPECT_EQ(emb->weights[0].init.b, 1.0);
}

TEST(RecurrentAux, SavesHiddenStatesAndGatesPerLayerAndDirection) {
    auto info = inferConcrete("lstm", recurrentParams(5, 2, true, "last"),
                              {{Shape{2, 3, 7}, DType::Float32}});
    ASSERT_TRUE(info.ok());
    std::vector<std::string> names;
    for (const auto& a : info->aux) names.push_back(a.name + " " + a.shape.str());
    EXPECT_EQ(names, (std::vector<std::string>{
                         "hidden_l0 (N, 3, 10)", "gates_l0 (N, 3, 20)", "cell_l0 (N, 3, 5)",
                         "gates_l0_reverse (N, 3, 20)", "cell_l0_reverse (N, 3, 5)",
                         "hidden_l1 (N, 3, 10)", "gates_l1 (N, 3, 20)", "cell_l1 (N, 3, 5)",
                         "gates_l1_reverse (N, 3, 20)", "cell_l1_reverse (N, 3, 5)"}));
}

TEST(RecurrentFlops, CountBothProjectionsPerSample) {
    auto info = inferConcrete("rnn", recurrentParams(3, 1, false, "sequence"),
                              {{Shape{2, 5, 4}, DType::Float32}});
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->flops, 5 * 3 * (2 * 4 + 2 * 3 + 2 + 1));
    auto lstm2 = inferConcrete("lstm", recurrentParams(3, 2, true, "sequence", false),
                               {{Shape{2, 5, 4}, DType::Float32}});
    ASSERT_TRUE(lstm2.ok());
    EXPECT_EQ(lstm2->flops, 2 * 5 * 12 * (2 * 4 + 2 * 3 + 1) + 2 * 5 * 12 * (2 * 6 + 2 * 3 + 1));
}

// ---- backward against finite differences ----

struct GradCase {
    std::string type;
    std::string nonlinearity;  // rnn only
    int64_t layers;
    bool bidirectional;
    std::string output;
    bool bias;
};

TEST(RecurrentBackward, MatchesFiniteDifferencesOnWeightsAndInputs) {
    std::vector<GradCase> cases;
    for (std::string type : {"rnn_tanh", "rnn_relu", "lstm", "gru"}) {
        for (int64_t layers : {1, 2}) {
            for (bool bidir : {false, true}) {
                for (std::string output : {"sequence", "last"}) {
                    std::string nl;
                    std::string t = type;
                    if (type.rfind("rnn_", 0) == 0) {
                        nl = type.substr(4);
                        t = "rnn";
                    }
                    cases.push_back({t, nl, layers, bidir, output, true});
                }
            }
        }
        cases.push_back({type.rfind("rnn_", 0) == 0 ? "rnn" : type,
                         type.rfind("rnn_", 0) == 0 ? type.substr(4) : "", 1, true, "sequence",
                         false});
    }
    for (const auto& c : cases) {
        const std::string what = c.type + " " + c.nonlinearity +
                                 " layers=" + std::to_string(c.layers) +
                                 (c.bidirectional ? " bidirectional " : " ") + c.output +
                                 (c.bias ? "" : " no bias");
        SCOPED_TRACE(what);
        Params p = recurrentParams(3, c.layers, c.bidirectional, c.output, c.bias);
        if (!c.nonlinearity.empty()) p["nonlinearity"] = c.nonlinearity;
        auto run = makeRun(c.type, p, {{Shape{2, 3, 4}, DType::Float32}}, 2);
        ASSERT_NE(run.spec, nullptr);
        if (c.nonlinearity == "relu") {
            // A pre-activation near relu's kink spoils central differences of the step sizes
            // that straddle it; the kernel must agree with at least one of two small steps,
            // which a wrong gradient cannot.
            EXPECT_LT(std::min(gradcheckMaxError(run, 1e-3), gradcheckMaxError(run, 3e-4)), 2e-3);
        } else {
            EXPECT_LT(gradcheckMaxError(run), 2e-3);
        }
    }
}

TEST(RecurrentBackward, IsNotZeroForEarlySteps) {
    // A backward that forgot the recurrence would still pass gradchecks on the last step alone;
    // with output = last, the first step's input only matters through the hidden state.
    for (std::string type : {"rnn", "lstm", "gru"}) {
        SCOPED_TRACE(type);
        auto run = makeRun(type, recurrentParams(3, 1, false, "last"),
                           {{Shape{2, 4, 3}, DType::Float32}}, 2);
        forward(run);
        Grads g = backward(run, {Tensor(run.outputs[0].shape, 1.0f)});
        double firstStep = 0;
        for (int64_t f = 0; f < 3; ++f) firstStep += std::abs(g.inputs[0].data[f]);
        EXPECT_GT(firstStep, 1e-4);
    }
}

// The W_hh gradient gathers h_{t-1} for blocks of 65536 / H (batch, time) rows: with H = 128 a
// batch of 60 sequences of 9 steps is two blocks (512 and 28 rows), one sequence alone is one.
// The batch's weight gradients must be the sum of each sequence's, in every direction and layer
// (up to float rounding, relative to the largest entry: some reach ~100 and cancel).
TEST(RecurrentBackward, WeightGradientsOfABatchAreTheSumOverItsSequences) {
    const int64_t batch = 60, T = 9, F = 5;
    for (std::string type : {"rnn", "lstm", "gru"}) {
        SCOPED_TRACE(type);
        const Params params = recurrentParams(128, 2, true, "sequence");
        auto run = makeRun(type, params, {{Shape{batch, T, F}, DType::Float32}}, batch);
        forward(run);
        std::mt19937 rng(9);
        const Tensor dy = randomTensor(run.outputs[0].shape, rng);
        const Grads all = backward(run, {dy});
        const int64_t outSize = dy.numel() / batch;
        std::vector<Tensor> sums;
        for (const Tensor& w : all.weights) sums.emplace_back(w.shape, 0.0f);
        for (int64_t s = 0; s < batch; ++s) {
            auto one = makeRun(type, params, {{Shape{1, T, F}, DType::Float32}}, 1);
            std::copy_n(run.inputs[0].data.begin() + s * T * F, T * F, one.inputs[0].data.begin());
            one.weights = run.weights;
            forward(one);
            Tensor dyOne(one.outputs[0].shape);
            std::copy_n(dy.data.begin() + s * outSize, outSize, dyOne.data.begin());
            const Grads g = backward(one, {dyOne});
            for (size_t w = 0; w < g.weights.size(); ++w) {
                for (int64_t i = 0; i < g.weights[w].numel(); ++i) {
                    sums[w].data[i] += g.weights[w].data[i];
                }
            }
        }
        for (size_t w = 0; w < sums.size(); ++w) {
            float largest = 1.0f;
            for (float v : all.weights[w].data) largest = std::max(largest, std::abs(v));
            for (int64_t i = 0; i < sums[w].numel(); ++i) {
                ASSERT_NEAR(sums[w].data[i], all.weights[w].data[i], 2e-4 * largest)
                    << "weight " << w << " element " << i;
            }
        }
    }
}

// ---- output modes ----

TEST(RecurrentOutput, LastIsTheFinalStateOfEachDirection) {
    for (std::string type : {"rnn", "lstm", "gru"}) {
        SCOPED_TRACE(type);
        const int64_t H = 3, T = 4;
        auto seq = makeRun(type, recurrentParams(H, 2, true, "sequence"),
                           {{Shape{2, T, 5}, DType::Float32}}, 2);
        auto last = makeRun(type, recurrentParams(H, 2, true, "last"),
                            {{Shape{2, T, 5}, DType::Float32}}, 2);
        ASSERT_EQ(seq.weights.size(), last.weights.size());
        last.weights = seq.weights;
        last.inputs = seq.inputs;
        forward(seq);
        forward(last);
        ASSERT_EQ(last.outputs[0].shape, (Shape{2, 2 * H}));
        for (int64_t n = 0; n < 2; ++n) {
            for (int64_t j = 0; j < H; ++j) {
                // forward direction: step T-1; reverse direction: its final state sits at t = 0
                EXPECT_EQ(last.outputs[0].data[n * 2 * H + j],
                          seq.outputs[0].data[(n * T + T - 1) * 2 * H + j]);
                EXPECT_EQ(last.outputs[0].data[n * 2 * H + H + j],
                          seq.outputs[0].data[(n * T + 0) * 2 * H + H + j]);
            }
        }
    }
}

// ---- embedding ----

TEST(Embedding, CopiesRowsAndSumsGradientsOfRepeatedIds) {
    auto run = makeRun("embedding", {{"num_embeddings", int64_t{5}}, {"embedding_dim", int64_t{2}}},
                       {{Shape{1, 4}, DType::Int32}}, 1);
    run.inputs[0] = Tensor(Shape{1, 4}, {3, 1, 3, 0});
    forward(run);
    for (int64_t p = 0; p < 4; ++p) {
        const int64_t row = static_cast<int64_t>(run.inputs[0].data[p]);
        EXPECT_EQ(run.outputs[0].data[p * 2], run.weights[0].data[row * 2]);
        EXPECT_EQ(run.outputs[0].data[p * 2 + 1], run.weights[0].data[row * 2 + 1]);
    }
    Tensor dy(Shape{1, 4, 2}, {1, 2, 10, 20, 100, 200, 1000, 2000});
    Grads g = backward(run, {dy});
    EXPECT_EQ(g.weights[0].data, (std::vector<float>{1000, 2000, 10, 20, 0, 0, 101, 202, 0, 0}));
}

TEST(Embedding, IdsOutOfRangeGiveZerosAndNoGradient) {
    auto run = makeRun("embedding", {{"num_embeddings", int64_t{4}}, {"embedding_dim", int64_t{3}}},
                       {{Shape{1, 5}, DType::Int32}}, 1);
    run.inputs[0] = Tensor(Shape{1, 5}, {-1, 4, 1e9f, NAN, 2});
    forward(run);
    for (int64_t i = 0; i < 12; ++i) EXPECT_EQ(run.outputs[0].data[i], 0.0f) << i;
    for (int64_t j = 0; j < 3; ++j) {
        EXPECT_EQ(run.outputs[0].data[12 + j], run.weights[0].data[6 + j]);  // id 2's row
    }
    Grads g = backward(run, {Tensor(Shape{1, 5, 3}, 1.0f)});
    EXPECT_EQ(g.weights[0].data, (std::vector<float>{0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0}));
}

TEST(Embedding, BackwardMatchesFiniteDifferences) {
    auto run = makeRun("embedding", {{"num_embeddings", int64_t{4}}, {"embedding_dim", int64_t{3}}},
                       {{Shape{2, 5}, DType::Int32}}, 2);
    EXPECT_LT(gradcheckMaxError(run), 2e-3);
}

// ---- PyTorch references ----

TEST(RecurrentFixtures, MatchPyTorch) {
    auto fixtures = loadFixtures("recurrent");
    ASSERT_GE(fixtures["cases"].size(), 8u);
    for (const auto& c : fixtures["cases"]) expectMatchesFixture(c, 1e-4);
}

}  // namespace
}  // namespace strata::test

// layer_norm, positional_encoding, multi_head_attention, transformer_encoder_layer: shape rules,
// PyTorch initialisation, gradients, dropout masks, attention maps and PyTorch references.
#include <gtest/gtest.h>

#include <cmath>

#include "layers/harness.h"

namespace strata::test {
namespace {

TensorType seq(std::vector<int64_t> dims) { return {Shape(std::move(dims)), DType::Float32}; }

const WeightSpec* weightNamed(const LayerInfo& info, const std::string& name) {
    for (const auto& w : info.weights) {
        if (w.name == name) return &w;
    }
    return nullptr;
}

int auxIndex(const LayerInfo& info, const std::string& name) {
    for (size_t i = 0; i < info.aux.size(); ++i) {
        if (info.aux[i].name == name) return static_cast<int>(i);
    }
    return -1;
}

// ---- shape rules ----

struct ShapeCase {
    std::string type;
    Params params;
    std::vector<TensorType> inputs;
    Shape out;
    std::vector<std::string> weights;  // PyTorch names, in order
};

TEST(AttentionShapes, FollowTheCatalogue) {
    const int64_t N = Shape::kBatch;
    const std::vector<std::string> mha = {"in_proj_weight", "in_proj_bias", "out_proj.weight",
                                          "out_proj.bias"};
    const std::vector<ShapeCase> table = {
        {"layer_norm", {}, {seq({2, 5, 8})}, Shape{N, 5, 8}, {"weight", "bias"}},
        {"layer_norm", {{"elementwise_affine", false}}, {seq({2, 8})}, Shape{N, 8}, {}},
        {"positional_encoding", {}, {seq({2, 7, 16})}, Shape{N, 7, 16}, {}},
        {"positional_encoding", {{"kind", std::string("learned")}, {"max_len", int64_t{9}}},
         {seq({2, 9, 16})}, Shape{N, 9, 16}, {"weight"}},
        {"multi_head_attention", {}, {seq({2, 5, 8})}, Shape{N, 5, 8}, mha},
        {"multi_head_attention", {{"num_heads", int64_t{2}}}, {seq({2, 5, 8}), seq({2, 3, 8})},
         Shape{N, 5, 8}, mha},
        {"multi_head_attention", {{"bias", false}}, {seq({2, 5, 8})}, Shape{N, 5, 8},
         {"in_proj_weight", "out_proj.weight"}},
        {"transformer_encoder_layer", {{"d_model", int64_t{8}}, {"dim_feedforward", int64_t{32}}},
         {seq({2, 6, 8})}, Shape{N, 6, 8},
         {"self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
          "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight",
          "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"}},
    };
    for (const auto& c : table) {
        SCOPED_TRACE(c.type + " " + c.inputs[0].shape.str());
        auto info = inferConcrete(c.type, c.params, c.inputs);
        ASSERT_TRUE(info.ok()) << info.message();
        EXPECT_EQ(info->outputs[0].shape, c.out);
        std::vector<std::string> names;
        for (const auto& w : info->weights) names.push_back(w.name);
        EXPECT_EQ(names, c.weights);
        EXPECT_GT(info->flops, 0);
    }
}

TEST(AttentionShapes, WeightLayoutsAreTorchStateDictLayouts) {
    auto info = inferConcrete("transformer_encoder_layer",
                              {{"d_model", int64_t{8}}, {"nhead", int64_t{2}},
                               {"dim_feedforward", int64_t{32}}},
                              {seq({2, 6, 8})});
    ASSERT_TRUE(info.ok()) << info.message();
    using D = std::vector<int64_t>;
    EXPECT_EQ(weightNamed(*info, "self_attn.in_proj_weight")->dims, (D{24, 8}));
    EXPECT_EQ(weightNamed(*info, "self_attn.in_proj_bias")->dims, (D{24}));
    EXPECT_EQ(weightNamed(*info, "self_attn.out_proj.weight")->dims, (D{8, 8}));
    EXPECT_EQ(weightNamed(*info, "linear1.weight")->dims, (D{32, 8}));
    EXPECT_EQ(weightNamed(*info, "linear2.weight")->dims, (D{8, 32}));
    EXPECT_EQ(weightNamed(*info, "norm2.bias")->dims, (D{8}));
    const int a = auxIndex(*info, "attention");
    ASSERT_GE(a, 0);
    EXPECT_EQ(info->aux[a].shape, (Shape{Shape::kBatch, 2, 6, 6}));

    auto pe = inferConcrete("positional_encoding",
                            {{"kind", std::string("learned")}, {"max_len", int64_t{40}}},
                            {seq({2, 6, 8})});
    ASSERT_TRUE(pe.ok());
    EXPECT_EQ(pe->weights[0].dims, (D{40, 8}));
}

TEST(AttentionShapes, CrossAttentionMapsQueriesToMemoryPositions) {
    auto info = inferConcrete("multi_head_attention", {{"num_heads", int64_t{2}}},
                              {seq({2, 5, 8}), seq({2, 7, 8})});
    ASSERT_TRUE(info.ok()) << info.message();
    const int a = auxIndex(*info, "attention");
    ASSERT_GE(a, 0);
    EXPECT_EQ(info->aux[a].shape, (Shape{Shape::kBatch, 2, 5, 7}));
}

TEST(AttentionShapes, InitialisationMatchesPyTorch) {
    auto mha = inferConcrete("multi_head_attention", {}, {seq({2, 5, 16})});
    ASSERT_TRUE(mha.ok());
    const WeightSpec* in = weightNamed(*mha, "in_proj_weight");
    EXPECT_EQ(in->init.kind, Init::Kind::Uniform);
    EXPECT_NEAR(in->init.b, std::sqrt(6.0 / (16 + 48)), 1e-9);  // xavier_uniform on [48, 16]
    EXPECT_EQ(weightNamed(*mha, "in_proj_bias")->init.kind, Init::Kind::Zeros);
    EXPECT_NEAR(weightNamed(*mha, "out_proj.weight")->init.b, 0.25, 1e-9);
    EXPECT_EQ(weightNamed(*mha, "out_proj.bias")->init.kind, Init::Kind::Zeros);

    auto block = inferConcrete("transformer_encoder_layer",
                               {{"d_model", int64_t{16}}, {"dim_feedforward", int64_t{64}}},
                               {seq({2, 5, 16})});
    ASSERT_TRUE(block.ok());
    EXPECT_NEAR(weightNamed(*block, "linear1.bias")->init.b, 0.25, 1e-9);
    EXPECT_NEAR(weightNamed(*block, "linear2.weight")->init.b, 0.125, 1e-9);
    EXPECT_EQ(weightNamed(*block, "norm1.weight")->init.kind, Init::Kind::Ones);
    EXPECT_EQ(weightNamed(*block, "norm2.bias")->init.kind, Init::Kind::Zeros);

    auto pe = inferConcrete("positional_encoding", {{"kind", std::string("learned")}},
                            {seq({2, 5, 16})});
    ASSERT_TRUE(pe.ok());
    EXPECT_EQ(pe->weights[0].init.kind, Init::Kind::Normal);
    EXPECT_EQ(pe->weights[0].init.b, 1.0);
}

TEST(AttentionShapes, FlopsGrowWithTheFeedForwardWidth) {
    auto flops = [](int64_t ff) {
        auto info = inferConcrete("transformer_encoder_layer",
                                  {{"d_model", int64_t{8}}, {"dim_feedforward", ff}},
                                  {seq({2, 6, 8})});
        return info.ok() ? info->flops : 0;
    };
    // Two products of (T x d_model x ff) multiply-adds: 4 * 6 * 8 per unit of width, plus the
    // activation.
    EXPECT_GE(flops(64) - flops(32), 4 * 6 * 8 * 32);
    auto mha = inferConcrete("multi_head_attention", {}, {seq({2, 6, 8})});
    ASSERT_TRUE(mha.ok());
    EXPECT_GT(flops(32), mha->flops);
}

struct ErrorCase {
    std::string type;
    Params params;
    std::vector<TensorType> inputs;
    std::string expected;  // a fragment of the sentence the person reads
};

TEST(AttentionShapes, RefuseWrongInputsWithASentence) {
    const std::vector<ErrorCase> table = {
        {"layer_norm", {}, {seq({4})}, "(N, ..., D) but 'src0' gives (N,)"},
        {"layer_norm", {}, {{Shape{4, 6}, DType::Int32}}, "of integers; add an embedding"},
        {"positional_encoding", {}, {seq({4, 16})}, "expects a sequence (N, T, D) but 'src0' "
                                                    "gives (N, 16)"},
        {"positional_encoding", {{"max_len", int64_t{8}}}, {seq({4, 9, 16})},
         "at most max_len = 8 positions but 'src0' gives (N, 9, 16); raise max_len to 9"},
        {"multi_head_attention", {}, {seq({4, 16})}, "query sequence (N, T, E) but 'src0'"},
        {"multi_head_attention", {{"num_heads", int64_t{4}}}, {seq({4, 5, 6})},
         "divisible by num_heads = 4 but 'src0' gives (N, 5, 6)"},
        {"multi_head_attention", {}, {seq({4, 5, 8}), seq({4, 3, 6})},
         "query's embed size 8 in its last dimension but 'src1' gives (N, 3, 6)"},
        {"multi_head_attention", {}, {seq({4, 5, 8}), seq({4, 6})},
         "memory sequence (N, S, E) but 'src1' gives (N, 6)"},
        {"transformer_encoder_layer", {}, {seq({4, 5, 32})},
         "d_model = 64 features in the last dimension but 'src0' gives (N, 5, 32); set d_model "
         "to 32"},
        {"transformer_encoder_layer", {{"d_model", int64_t{6}}, {"nhead", int64_t{4}}},
         {seq({4, 5, 6})}, "d_model = 6 to be divisible by nhead = 4"},
        {"transformer_encoder_layer", {{"d_model", int64_t{6}}}, {seq({4, 6})},
         "(N, T, d_model) but 'src0' gives (N, 6)"},
    };
    for (const auto& c : table) {
        auto info = inferConcrete(c.type, c.params, c.inputs);
        ASSERT_FALSE(info.ok()) << c.type << " accepted " << c.inputs[0].shape.str();
        EXPECT_NE(info.message().find(c.expected), std::string::npos)
            << c.type << ": " << info.message();
    }
}

// ---- gradients ----

TEST(LayerNorm, BackwardMatchesFiniteDifferences) {
    auto run = makeRun("layer_norm", {}, {seq({2, 3, 6})}, 2);
    EXPECT_LT(gradcheckMaxError(run, 1e-2), 2e-3);
    auto plain = makeRun("layer_norm", {{"elementwise_affine", false}}, {seq({3, 5})}, 3);
    EXPECT_LT(gradcheckMaxError(plain, 1e-2), 2e-3);
}

TEST(PositionalEncoding, BackwardMatchesFiniteDifferences) {
    auto sinus = makeRun("positional_encoding", {}, {seq({2, 4, 6})}, 2);
    EXPECT_LT(gradcheckMaxError(sinus), 2e-3);
    auto learned = makeRun("positional_encoding",
                           {{"kind", std::string("learned")}, {"max_len", int64_t{6}}},
                           {seq({2, 4, 6})}, 2);
    EXPECT_LT(gradcheckMaxError(learned), 2e-3);
}

TEST(PositionalEncoding, SinusoidalTableMatchesTheFormula) {
    auto run = makeRun("positional_encoding", {}, {seq({1, 5, 8})}, 1);
    for (auto& v : run.inputs[0].data) v = 0.0f;
    forward(run);
    const auto& pe = run.outputs[0].data;  // (1, 5, 8)
    EXPECT_FLOAT_EQ(pe[0 * 8 + 0], 0.0f);
    EXPECT_FLOAT_EQ(pe[0 * 8 + 1], 1.0f);
    EXPECT_NEAR(pe[3 * 8 + 2], std::sin(3.0 / std::pow(10000.0, 2.0 / 8)), 1e-6);
    EXPECT_NEAR(pe[4 * 8 + 7], std::cos(4.0 / std::pow(10000.0, 6.0 / 8)), 1e-6);
}

TEST(MultiHeadAttention, SelfAttentionBackwardMatchesFiniteDifferences) {
    auto run = makeRun("multi_head_attention", {{"num_heads", int64_t{2}}}, {seq({2, 3, 4})}, 2);
    EXPECT_LT(gradcheckMaxError(run), 2e-3);
}

TEST(MultiHeadAttention, CausalBackwardMatchesFiniteDifferences) {
    auto run = makeRun("multi_head_attention", {{"num_heads", int64_t{2}}, {"causal", true}},
                       {seq({2, 4, 4})}, 2);
    EXPECT_LT(gradcheckMaxError(run), 2e-3);
}

TEST(MultiHeadAttention, CrossAttentionBackwardMatchesFiniteDifferences) {
    auto run = makeRun("multi_head_attention", {{"num_heads", int64_t{2}}},
                       {seq({2, 3, 4}), seq({2, 5, 4})}, 2);
    EXPECT_LT(gradcheckMaxError(run), 2e-3);
}

TEST(MultiHeadAttention, WithoutBiasBackwardMatchesFiniteDifferences) {
    auto run = makeRun("multi_head_attention", {{"num_heads", int64_t{3}}, {"bias", false}},
                       {seq({1, 3, 6})}, 1);
    EXPECT_LT(gradcheckMaxError(run), 2e-3);
}

TEST(MultiHeadAttention, MemoryEqualToTheQueryGivesSelfAttention) {
    auto self = makeRun("multi_head_attention", {{"num_heads", int64_t{2}}}, {seq({2, 3, 4})}, 2);
    auto cross = makeRun("multi_head_attention", {{"num_heads", int64_t{2}}},
                         {seq({2, 3, 4}), seq({2, 3, 4})}, 2);
    cross.inputs[1] = cross.inputs[0] = self.inputs[0];
    cross.weights = self.weights;
    std::mt19937 rng(3);
    std::vector<Tensor> dy = {randomTensor(Shape{2, 3, 4}, rng)};
    Grads gs = backward(self, dy);
    Grads gc = backward(cross, dy);
    for (int64_t i = 0; i < self.outputs[0].numel(); ++i) {
        EXPECT_NEAR(self.outputs[0].data[i], cross.outputs[0].data[i], 1e-5);
        // Self-attention's input feeds queries, keys and values: both of cross's inputs at once.
        EXPECT_NEAR(gs.inputs[0].data[i], gc.inputs[0].data[i] + gc.inputs[1].data[i], 1e-5);
    }
}

struct BlockCase {
    bool normFirst;
    std::string activation;
    bool causal;
};

Params blockParams(const BlockCase& c, double dropout = 0.0) {
    return {{"d_model", int64_t{4}}, {"nhead", int64_t{2}}, {"dim_feedforward", int64_t{6}},
            {"dropout", dropout}, {"activation", c.activation}, {"norm_first", c.normFirst},
            {"causal", c.causal}};
}

TEST(TransformerEncoderLayer, BackwardMatchesFiniteDifferences) {
    const std::vector<BlockCase> table = {
        {false, "relu", false}, {true, "relu", true}, {false, "gelu", true}, {true, "gelu", false}};
    for (const auto& c : table) {
        SCOPED_TRACE(std::string(c.normFirst ? "pre-norm " : "post-norm ") + c.activation +
                     (c.causal ? " causal" : ""));
        auto run = makeRun("transformer_encoder_layer", blockParams(c), {seq({2, 3, 4})}, 2);
        // A small step keeps central differences on one side of relu's kink and makes gelu's
        // and the norms' curvature negligible (measured worst: 5e-4).
        EXPECT_LT(gradcheckMaxError(run, 3e-3), 3e-3);
    }
}

// ---- dropout ----

TEST(AttentionDropout, MasksAreDeterministicPerSeedAndOffInEval) {
    const std::vector<std::pair<std::string, Params>> layers = {
        {"multi_head_attention", {{"num_heads", int64_t{2}}, {"dropout", 0.5}}},
        {"positional_encoding", {{"dropout", 0.5}}},
        {"transformer_encoder_layer", blockParams({false, "gelu", false}, 0.5)},
    };
    for (const auto& [type, params] : layers) {
        SCOPED_TRACE(type);
        auto run = makeRun(type, params, {seq({2, 4, 4})}, 2);
        forward(run);
        const Tensor first = run.outputs[0];
        forward(run);
        EXPECT_EQ(run.outputs[0], first) << "the same seed must give the same mask";
        run.seed += 1;
        forward(run);
        EXPECT_NE(run.outputs[0], first) << "another step must draw another mask";
        run.training = false;
        forward(run);
        const Tensor eval = run.outputs[0];
        Params noDrop = params;
        noDrop["dropout"] = 0.0;
        auto plain = makeRun(type, noDrop, {seq({2, 4, 4})}, 2);
        plain.inputs = run.inputs;
        plain.weights = run.weights;
        forward(plain);
        for (int64_t i = 0; i < eval.numel(); ++i) {
            EXPECT_NEAR(eval.data[i], plain.outputs[0].data[i], 1e-6) << "eval must not drop";
        }
    }
}

TEST(AttentionDropout, BackwardRegeneratesTheForwardMask) {
    // With a fixed seed the mask is a constant of the function, so finite differences see the
    // same dropped elements as backward only if backward regenerates forward's mask exactly.
    auto mha = makeRun("multi_head_attention", {{"num_heads", int64_t{2}}, {"dropout", 0.3}},
                       {seq({2, 3, 4})}, 2);
    EXPECT_LT(gradcheckMaxError(mha), 2e-3);
    auto pe = makeRun("positional_encoding", {{"dropout", 0.3}}, {seq({2, 3, 4})}, 2);
    EXPECT_LT(gradcheckMaxError(pe), 2e-3);
    auto block = makeRun("transformer_encoder_layer", blockParams({true, "gelu", true}, 0.3),
                         {seq({2, 3, 4})}, 2);
    EXPECT_LT(gradcheckMaxError(block), 3e-3);
}

// ---- the attention map the studio shows ----

void expectProbabilityRows(const Tensor& attention, bool causal) {
    const int64_t t = attention.shape[-2], s = attention.shape[-1];
    const int64_t rows = attention.numel() / s;
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t i = r % t;
        double sum = 0;
        for (int64_t j = 0; j < s; ++j) {
            const float p = attention.data[r * s + j];
            EXPECT_GE(p, 0.0f);
            if (causal && j > i) {
                EXPECT_EQ(p, 0.0f) << "row " << i << " sees the future at " << j;
            }
            sum += p;
        }
        EXPECT_NEAR(sum, 1.0, 1e-5) << "row " << r;
    }
}

TEST(AttentionMap, RowsAreDistributionsAndCausalRowsIgnoreTheFuture) {
    for (bool causal : {false, true}) {
        SCOPED_TRACE(causal ? "causal" : "full");
        auto mha = makeRun("multi_head_attention", {{"num_heads", int64_t{2}}, {"causal", causal}},
                           {seq({2, 5, 4})}, 2);
        for (auto& v : mha.inputs[0].data) v *= 4.0f;  // peaked rows: masking errors show
        forward(mha);
        const int a = auxIndex(mha.info, "attention");
        ASSERT_GE(a, 0);
        EXPECT_EQ(mha.aux[a].shape, (Shape{2, 2, 5, 5}));
        expectProbabilityRows(mha.aux[a], causal);

        auto block = makeRun("transformer_encoder_layer",
                             blockParams({true, "relu", causal}, 0.5), {seq({2, 5, 4})}, 2);
        forward(block);
        const int b = auxIndex(block.info, "attention");
        ASSERT_GE(b, 0);
        expectProbabilityRows(block.aux[b], causal);  // saved before dropout
    }
}

// ---- PyTorch references ----

Tensor fixtureTensor(const nlohmann::json& j) {
    return Tensor(Shape(j.at("shape").get<std::vector<int64_t>>()),
                  j.at("data").get<std::vector<float>>());
}

TEST(AttentionFixtures, MatchPyTorch) {
    auto fixtures = loadFixtures("attention");
    ASSERT_GE(fixtures["cases"].size(), 10u);
    for (const auto& c : fixtures["cases"]) expectMatchesFixture(c, 1e-4);
}

TEST(AttentionFixtures, AttentionMapsMatchPyTorchPerHeadWeights) {
    auto fixtures = loadFixtures("attention");
    int checked = 0;
    for (const auto& c : fixtures["cases"]) {
        if (!c.contains("attention")) continue;
        SCOPED_TRACE(c.at("name").get<std::string>());
        std::vector<TensorType> types;
        for (const auto& ji : c.at("inputs")) types.push_back(seq(fixtureTensor(ji).shape.dims()));
        Params params;
        for (auto& [k, v] : c.at("params").items()) {
            if (v.is_boolean()) params[k] = v.get<bool>();
            else params[k] = v.get<int64_t>();
        }
        auto run = makeRun(c.at("type"), params, types, c.at("batch").get<int64_t>());
        for (size_t i = 0; i < types.size(); ++i) run.inputs[i] = fixtureTensor(c.at("inputs")[i]);
        for (size_t k = 0; k < run.info.weights.size(); ++k) {
            run.weights[k] = fixtureTensor(c.at("weights").at(run.info.weights[k].name));
        }
        forward(run);
        const Tensor want = fixtureTensor(c.at("attention"));
        const Tensor& got = run.aux[auxIndex(run.info, "attention")];
        ASSERT_EQ(got.shape, want.shape);
        for (int64_t i = 0; i < want.numel(); ++i) EXPECT_NEAR(got.data[i], want.data[i], 1e-5);
        ++checked;
    }
    EXPECT_GE(checked, 4);
}

}  // namespace
}  // namespace strata::test

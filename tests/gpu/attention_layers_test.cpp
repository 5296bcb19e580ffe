// Attention-family kernels against the CPU kernels: odd sizes (T = 5, S = 3, E = 12), every
// parameter that changes the kernel path, dropout in training (same masks as the CPU) and eval.
#include "layer_check.h"

namespace strata::gpu::test {
namespace {

TensorType seq(int64_t t, int64_t d) { return {Shape({1, t, d}), DType::Float32}; }

TEST_F(LayerKernelTest, LayerNormMatchesCpu) {
    for (const auto& [shape, affine, eps, batch] :
         std::vector<std::tuple<Shape, bool, double, int64_t>>{
             {Shape({1, 5, 12}), true, 1e-5, 2},
             {Shape({1, 5, 12}), false, 1e-5, 1},
             {Shape({1, 7}), true, 1e-3, 3},
             {Shape({1, 2, 3, 13}), true, 1e-5, 2}}) {
        expectMatchesCpu({.type = "layer_norm",
                          .params = {{"elementwise_affine", affine}, {"eps", eps}},
                          .inputs = {{shape, DType::Float32}},
                          .batch = batch});
    }
}

TEST_F(LayerKernelTest, PositionalEncodingMatchesCpu) {
    for (const auto& [kind, d, dropout, training, batch] :
         std::vector<std::tuple<std::string, int64_t, double, bool, int64_t>>{
             {"sinusoidal", 12, 0.0, true, 2},
             {"sinusoidal", 7, 0.3, true, 1},
             {"sinusoidal", 12, 0.3, false, 2},
             {"learned", 12, 0.0, true, 2},
             {"learned", 7, 0.4, true, 2},
             {"learned", 12, 0.4, false, 1}}) {
        expectMatchesCpu({.type = "positional_encoding",
                          .params = {{"kind", kind}, {"max_len", int64_t(9)},
                                     {"dropout", dropout}},
                          .inputs = {seq(5, d)},
                          .batch = batch,
                          .training = training});
    }
}

TEST_F(LayerKernelTest, MultiHeadAttentionMatchesCpu) {
    struct Case {
        int64_t heads;
        bool memory, causal, bias;
        double dropout;
        bool training;
        int64_t batch;
    };
    for (const Case& k : std::vector<Case>{{4, false, false, true, 0.0, true, 2},
                                           {1, false, true, true, 0.0, true, 1},
                                           {3, true, false, true, 0.0, true, 2},
                                           {3, true, true, false, 0.0, true, 1},
                                           {4, false, false, false, 0.0, true, 1},
                                           {3, false, true, true, 0.3, true, 2},
                                           {4, true, false, true, 0.3, true, 2},
                                           {3, false, false, true, 0.3, false, 2}}) {
        std::vector<TensorType> inputs = {seq(5, 12)};
        if (k.memory) inputs.push_back(seq(3, 12));
        expectMatchesCpu({.type = "multi_head_attention",
                          .params = {{"num_heads", k.heads}, {"causal", k.causal},
                                     {"bias", k.bias}, {"dropout", k.dropout}},
                          .inputs = inputs,
                          .batch = k.batch,
                          .training = k.training});
    }
}

TEST_F(LayerKernelTest, TransformerEncoderLayerMatchesCpu) {
    struct Case {
        int64_t heads;
        bool normFirst, causal;
        std::string activation;
        double dropout;
        bool training;
        int64_t batch;
    };
    for (const Case& k : std::vector<Case>{{3, false, false, "relu", 0.0, true, 2},
                                           {4, true, true, "gelu", 0.0, true, 1},
                                           {3, false, true, "gelu", 0.2, true, 2},
                                           {4, true, false, "relu", 0.2, true, 2},
                                           {1, true, false, "gelu", 0.2, false, 2}}) {
        expectMatchesCpu({.type = "transformer_encoder_layer",
                          .params = {{"d_model", int64_t(12)}, {"nhead", k.heads},
                                     {"dim_feedforward", int64_t(20)},
                                     {"dropout", k.dropout}, {"activation", k.activation},
                                     {"norm_first", k.normFirst}, {"causal", k.causal}},
                          .inputs = {seq(5, 12)},
                          .batch = k.batch,
                          .training = k.training,
                          .tol = 2e-4});
    }
}

}  // namespace
}  // namespace strata::gpu::test

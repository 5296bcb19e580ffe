// Attention-family kernels against the CPU kernels: odd sizes (T = 5, S = 3, E = 12), every
// parameter that changes the kernel path, dropout in training (same masks as the CPU) and eval.
#include <cstring>

#include "core/layers/registry.h"
#include "gpu/layer_kernels.h"
#include "layer_check.h"
#include "layers/harness.h"

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
        EXPECT_GT(expectMatchesCpu({.type = "layer_norm",
                          .params = {{"elementwise_affine", affine}, {"eps", eps}},
                          .inputs = {{shape, DType::Float32}},
                          .batch = batch}), 0u);
    }
}

TEST_F(LayerKernelTest, PositionalEncodingMatchesCpu) {
    for (const auto& [kind, t, d, dropout, training, batch] :
         std::vector<std::tuple<std::string, int64_t, int64_t, double, bool, int64_t>>{
             {"sinusoidal", 5, 12, 0.0, true, 2},
             {"sinusoidal", 5, 7, 0.3, true, 1},
             {"sinusoidal", 5, 12, 0.3, false, 2},
             {"sinusoidal", 500, 6, 0.0, true, 1},  // large angles: float sines stay close
             {"learned", 5, 12, 0.0, true, 2},
             {"learned", 5, 7, 0.4, true, 2},
             {"learned", 5, 12, 0.4, false, 1}}) {
        EXPECT_GT(expectMatchesCpu({.type = "positional_encoding",
                          .params = {{"kind", kind}, {"max_len", int64_t(512)},
                                     {"dropout", dropout}},
                          .inputs = {seq(t, d)},
                          .batch = batch,
                          .training = training}), 0u);
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
        EXPECT_GT(expectMatchesCpu({.type = "multi_head_attention",
                          .params = {{"num_heads", k.heads}, {"causal", k.causal},
                                     {"bias", k.bias}, {"dropout", k.dropout}},
                          .inputs = inputs,
                          .batch = k.batch,
                          .training = k.training}), 0u);
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
        EXPECT_GT(expectMatchesCpu({.type = "transformer_encoder_layer",
                          .params = {{"d_model", int64_t(12)}, {"nhead", k.heads},
                                     {"dim_feedforward", int64_t(20)},
                                     {"dropout", k.dropout}, {"activation", k.activation},
                                     {"norm_first", k.normFirst}, {"causal", k.causal}},
                          .inputs = {seq(5, 12)},
                          .batch = k.batch,
                          .training = k.training}), 0u);
    }
}

// A training step is recorded once and replayed with a new seed each time: the GPU must read the
// seed from its buffer at run time (dropout masks then follow the CPU's for every seed, high word
// included), and the saved attention probabilities (aux "attention", which the studio's
// attention view downloads) must equal the CPU's.
class AttentionReplayTest : public LayerKernelTest {
protected:
    void expectReplaysMatchCpu(const std::string& type, const Params& params,
                               const TensorType& input) {
        SCOPED_TRACE(type);
        const int64_t batch = 2;
        TensorType batched = input;
        auto dims = batched.shape.dims();
        dims[0] = Shape::kBatch;
        batched.shape = Shape(dims);
        strata::test::LayerRun run = strata::test::makeRun(type, params, {batched}, batch);
        ASSERT_NE(run.spec, nullptr);
        run.training = true;

        arena(16 << 20);
        auto scratchArena = MemoryArena::create(dev(), "scratch", 16 << 20);
        ASSERT_TRUE(scratchArena);
        const BufferRange seed = zeros(2);
        auto rec = recorder();
        ASSERT_TRUE(rec);
        GpuOpContext f{.rec = *rec, .params = run.params, .name = type, .training = true,
                       .seed = seed};
        f.inputs.push_back({upload(run.inputs[0].data), run.inputs[0].shape});
        for (const auto& w : run.weights) f.weights.push_back({upload(w.data), w.shape});
        const Shape outShape = run.info.outputs[0].shape.withBatch(batch);
        f.outputs.push_back({zeros(uint64_t(outShape.numel())), outShape});
        for (const auto& a : run.info.aux) {
            const Shape s = a.shape.withBatch(batch);
            f.aux.push_back({zeros(uint64_t(s.numel())), s});
        }
        f.scratch = [&](uint64_t floats, const std::string& what) {
            return (*scratchArena)->allocateFloats(std::max<uint64_t>(floats, 1), what);
        };
        auto recorded = findGpuKernels(type)->forward(f);
        ASSERT_TRUE(recorded.ok()) << recorded.message();

        for (const uint64_t step : {0x1234ull, 0x9E3779B97F4A7C15ull, 0xFFFFFFFF00000007ull}) {
            SCOPED_TRACE("seed " + std::to_string(step));
            uint32_t words[2] = {uint32_t(step), uint32_t(step >> 32)};
            ASSERT_TRUE(gpuContext().staging->upload(seed, words, sizeof(words)).ok());
            auto ran = rec->run();
            ASSERT_TRUE(ran.ok()) << ran.message();
            run.seed = step;
            strata::test::forward(run);
            EXPECT_LE(maxRelError(download(f.outputs[0].range), run.outputs[0].data), 1e-4f);
            EXPECT_LE(maxRelError(download(f.aux[0].range), run.aux[0].data), 1e-4f)
                << "aux '" << run.info.aux[0].name << "'";
        }
    }
};

TEST_F(AttentionReplayTest, ReplayedStepsFollowTheSeedBuffer) {
    expectReplaysMatchCpu("multi_head_attention",
                          {{"num_heads", int64_t(3)}, {"causal", true}, {"dropout", 0.3}},
                          seq(5, 12));
    expectReplaysMatchCpu("transformer_encoder_layer",
                          {{"d_model", int64_t(12)}, {"nhead", int64_t(4)},
                           {"dim_feedforward", int64_t(20)}, {"dropout", 0.3}},
                          seq(5, 12));
}

}  // namespace
}  // namespace strata::gpu::test

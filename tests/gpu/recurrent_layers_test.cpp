// Recurrent-family kernels against the CPU kernels: odd sizes (T = 5, 3 features, hidden 7) so
// no dimension matches a tile, batch 1 and 3, and a covering set of the parameters that change
// the kernel path (cell, layers, direction, output, bias, nonlinearity).
#include "layer_check.h"

#include "gpu/layer_kernels.h"
#include "layers/harness.h"

namespace strata::gpu::test {
namespace {

struct RecurrentCase {
    int64_t layers;
    bool bidirectional;
    const char* output;
    bool bias;
    int64_t batch;
};

// Every pair of {1, 2 layers} x {uni, bidirectional} appears, each with both outputs and both
// bias settings somewhere, and batch 1 once.
const std::vector<RecurrentCase> kCases = {
    {1, false, "sequence", true, 1},
    {1, true, "last", false, 3},
    {2, false, "last", true, 3},
    {2, true, "sequence", false, 3},
    {2, true, "last", true, 2},
};

class RecurrentKernelTest : public LayerKernelTest {
protected:
    // Every case of kCases with hidden 7 on (batch, T = 5, 3 features).
    void run(const std::string& type, const Params& extra = {}) {
        for (const auto& rc : kCases) {
            Params p = extra;
            p["hidden_size"] = int64_t(7);
            p["num_layers"] = rc.layers;
            p["bidirectional"] = rc.bidirectional;
            p["output"] = std::string(rc.output);
            p["bias"] = rc.bias;
            EXPECT_GT(expectMatchesCpu({.type = type,
                              .params = p,
                              .inputs = {{Shape({1, 5, 3}), DType::Float32}},
                              .batch = rc.batch}), 0u);
        }
    }
};

TEST_F(RecurrentKernelTest, RnnTanhMatchesCpu) { run("rnn"); }

TEST_F(RecurrentKernelTest, RnnReluMatchesCpu) {
    run("rnn", {{"nonlinearity", std::string("relu")}});
}

TEST_F(RecurrentKernelTest, LstmMatchesCpu) { run("lstm"); }

TEST_F(RecurrentKernelTest, GruMatchesCpu) { run("gru"); }

TEST_F(RecurrentKernelTest, LongSequenceKeepsBackpropThroughTimeExact) {
    EXPECT_GT(expectMatchesCpu({.type = "lstm",
                      .params = {{"hidden_size", int64_t(9)}, {"bidirectional", true}},
                      .inputs = {{Shape({1, 24, 5}), DType::Float32}},
                      .batch = 2,
                      .tol = 2e-4}), 0u);
}

// The fused step kernels read W_hh and the states as whole 4-float texels when the hidden size
// is a multiple of 4 (hidden 7 and 9 above take the one-float path), and each invocation owns 8
// batch rows: hidden 8 and 12 with batch 11 (a partial block of rows after a full one), every
// cell, bidirectional and two layers so that the texel offsets of every direction are exercised.
TEST_F(RecurrentKernelTest, WholeTexelPathAndPartialRowBlocksMatchCpu) {
    for (const char* type : {"rnn", "lstm", "gru"}) {
        for (int64_t hidden : {8, 12}) {
            SCOPED_TRACE(std::string(type) + " hidden " + std::to_string(hidden));
            EXPECT_GT(expectMatchesCpu({.type = type,
                              .params = {{"hidden_size", hidden},
                                         {"num_layers", int64_t(2)},
                                         {"bidirectional", hidden == 12},
                                         {"output", std::string(hidden == 8 ? "sequence"
                                                                            : "last")}},
                              .inputs = {{Shape({1, 6, 4}), DType::Float32}},
                              .batch = 11,
                              .tol = 2e-4}), 0u);
        }
    }
}

// Training memory (issue 6: peak at most 1.5x what training needs): for rnn and lstm the gradient
// of W_hh h_{t-1} + b_hh is the gate gradient itself, so backward's scratch holds the gate
// gradients of all steps once, (N, T, G*H), beside h_{t-1} (N, T, H), a lower layer's input
// gradient (N, T, H), the cell gradient (N, H) and two rows of ones (2, N*T). Recorded only.
TEST_F(GpuTest, RnnAndLstmBackwardKeepTheGateGradientsOnce) {
    const int64_t N = 3, T = 5, F = 3, H = 8;
    for (const char* type : {"rnn", "lstm"}) {
        SCOPED_TRACE(type);
        const Params params{{"hidden_size", H}, {"num_layers", int64_t(2)}};
        strata::test::LayerRun run = strata::test::makeRun(
            type, params, {{Shape({Shape::kBatch, T, F}), DType::Float32}}, N);
        ASSERT_NE(run.spec, nullptr);
        arena(16 << 20);
        auto tensor = [&](const Shape& s) { return GpuTensor{zeros(uint64_t(s.numel())), s}; };
        auto rec = recorder();
        ASSERT_TRUE(rec);
        GpuOpContext b{.rec = *rec, .params = run.params, .name = type};
        b.seed = zeros(2);
        for (const auto& x : run.inputs) {
            b.inputs.push_back(tensor(x.shape));
            b.gradInputs.push_back(tensor(x.shape));
        }
        for (const auto& o : run.info.outputs) {
            b.outputs.push_back(tensor(o.shape.withBatch(N)));
            b.gradOutputs.push_back(tensor(o.shape.withBatch(N)));
        }
        for (const auto& w : run.weights) {
            b.weights.push_back(tensor(w.shape));
            b.gradWeights.push_back(tensor(w.shape));
        }
        for (const auto& a : run.info.aux) b.aux.push_back(tensor(a.shape.withBatch(N)));
        uint64_t scratchFloats = 0;
        b.scratch = [&](uint64_t floats, const std::string& what) -> Result<BufferRange> {
            scratchFloats += floats;
            return arena(1 << 20).allocateFloats(std::max<uint64_t>(floats, 1), what);
        };
        auto r = findGpuKernels(type)->backward(b);
        ASSERT_TRUE(r.ok()) << r.message();
        const uint64_t GH = uint64_t(std::string(type) == "lstm" ? 4 : 1) * H;
        EXPECT_LE(scratchFloats, N * T * (GH + H + H) + N * H + 2 * N * T);
    }
}

TEST_F(LayerKernelTest, EmbeddingMatchesCpu) {
    // 6 rows for 21 or 3 ids: rows repeat within the batch, so gradients of repeated ids add.
    for (const auto& [shape, batch] : std::vector<std::pair<Shape, int64_t>>{
             {Shape({1, 7}), 3}, {Shape({1}), 3}, {Shape({1, 2, 3}), 1}}) {
        EXPECT_GT(expectMatchesCpu({.type = "embedding",
                          .params = {{"num_embeddings", int64_t(6)}, {"embedding_dim", int64_t(5)}},
                          .inputs = {{shape, DType::Int32}},
                          .batch = batch,
                          .intRange = 6}), 0u);
    }
}

TEST_F(LayerKernelTest, EmbeddingOutOfRangeIdsGiveZerosAndNoGradient) {
    // Ids 6..9 select no row: zeros forward, nothing added to any row backward, like the CPU.
    EXPECT_GT(expectMatchesCpu({.type = "embedding",
                      .params = {{"num_embeddings", int64_t(6)}, {"embedding_dim", int64_t(9)}},
                      .inputs = {{Shape({1, 11}), DType::Int32}},
                      .batch = 3,
                      .intRange = 10}), 0u);
}

}  // namespace
}  // namespace strata::gpu::test

// "The largest binding the device allows": every layer family with Vulkan kernels, run with the
// device's binding limit lowered to 64 KiB (kLimit) on tensors of a few hundred KiB, so each one
// is split across several bindings exactly as a large batch is split on a device whose
// maxStorageBufferRange it exceeds. Outputs, updated buffers and every gradient are compared
// with the CPU kernels (layer_check.h).
#include <functional>

#include "gpu/ops/batch_norm.h"
#include "gpu/ops/broadcast.h"
#include "gpu/ops/recurrent.h"
#include "layer_check.h"

namespace strata::gpu::test {
namespace {

constexpr uint64_t kLimit = 64 << 10;  // 16384 floats per binding
constexpr int64_t kFloatsPerBinding = kLimit / 4;

TensorType f32(std::vector<int64_t> dims) { return {Shape(std::move(dims)), DType::Float32}; }
TensorType i32(std::vector<int64_t> dims) { return {Shape(std::move(dims)), DType::Int32}; }

// Elements of one batched input.
int64_t batchedNumel(const LayerCase& c, size_t input) {
    return c.inputs[input].shape.numel() * c.batch;
}

class BindingLimitTest : public LayerKernelTest {
protected:
    // Runs c under kLimit. bigFloats: the size of the case's largest tensor, which must exceed
    // one binding (checked, so a case that stops splitting after a size change fails instead
    // of passing vacuously).
    void expectSplitMatchesCpu(LayerCase c, int64_t bigFloats) {
        EXPECT_GT(bigFloats, kFloatsPerBinding) << describe(c) << " fits one binding";
        c.maxBindingBytes = kLimit;
        EXPECT_GT(expectMatchesCpu(c), 0u);
    }
    // For kernels that bind a whole tensor at once: they must refuse with the sentence that
    // names the tensor and the remedy, never record a binding past the limit. What records
    // before the refusal (a forward, when only the backward refuses) is still compared.
    void expectRefusal(LayerCase c, int64_t bigFloats) {
        c.refuses = "more than the device binds at once";
        expectSplitMatchesCpu(std::move(c), bigFloats);
    }
};

TEST_F(BindingLimitTest, DenseLayersSplitAcrossBindings) {
    // (300, 120) input, weight [100, 120]: 36000 and 12000 floats.
    expectSplitMatchesCpu({.type = "linear", .params = {{"out_features", int64_t(100)}},
                           .inputs = {f32({1, 120})}, .batch = 300},
                          300 * 120);
    const LayerCase flat{.type = "flatten", .inputs = {f32({1, 3, 20, 20})}, .batch = 40};
    expectSplitMatchesCpu(flat, batchedNumel(flat, 0));
    const LayerCase reshape{.type = "reshape", .params = {{"shape", std::vector<int64_t>{40, 30}}},
                            .inputs = {f32({1, 1200})}, .batch = 40};
    expectSplitMatchesCpu(reshape, batchedNumel(reshape, 0));
    for (bool training : {true, false}) {
        const LayerCase drop{.type = "dropout", .params = {{"p", 0.3}},
                             .inputs = {f32({1, 1000})}, .batch = 40, .training = training,
                             .tol = 1e-6};
        expectSplitMatchesCpu(drop, batchedNumel(drop, 0));
    }
}

TEST_F(BindingLimitTest, AddSplitsAcrossBindingsWithBroadcasting) {
    // (3, 40, 25, 30) from (3, 40, 1, 30) + (3, 1, 25, 30): 90000 output floats, each input
    // broadcast along a different axis; gradients fold over several output blocks.
    expectSplitMatchesCpu({.type = "add", .inputs = {f32({1, 40, 1, 30}), f32({1, 1, 25, 30})},
                           .batch = 3},
                          3 * 40 * 25 * 30);
    // Three inputs, two of full size: (4, 64, 90) + (4, 64, 90) + (4, 1, 90).
    const LayerCase three{.type = "add", .params = {{"inputs", int64_t(3)}},
                          .inputs = {f32({1, 64, 90}), f32({1, 64, 90}), f32({1, 1, 90})},
                          .batch = 4};
    expectSplitMatchesCpu(three, batchedNumel(three, 0));
    // A trailing block longer than a binding: (2, 20000) + (2, 1) splits inside a row.
    expectSplitMatchesCpu({.type = "add", .inputs = {f32({1, 20000}), f32({1, 1})}, .batch = 2},
                          40000);
}

TEST_F(BindingLimitTest, ConcatSplitsAcrossBindings) {
    // Along axis 1: rows of 150 * 60 floats, several rows per binding.
    const LayerCase rows{.type = "concat", .params = {{"axis", int64_t(1)}},
                         .inputs = {f32({1, 100, 60}), f32({1, 50, 60})}, .batch = 4};
    expectSplitMatchesCpu(rows, 4 * 150 * 60);
    // Along the last axis with rows of 21000 floats: one row spans two bindings.
    const LayerCase wide{.type = "concat", .params = {{"inputs", int64_t(3)}},
                         .inputs = {f32({1, 12000}), f32({1, 5000}), f32({1, 4000})},
                         .batch = 3};
    expectSplitMatchesCpu(wide, 3 * 21000);
}

TEST_F(BindingLimitTest, ActivationsSplitAcrossBindings) {
    for (const auto& [type, params] : std::vector<std::pair<std::string, Params>>{
             {"relu", {}},
             {"leaky_relu", {{"negative_slope", 0.2}}},
             {"gelu", {}},
             {"gelu", {{"approximate", std::string("tanh")}}},
             {"sigmoid", {}},
             {"tanh", {}}}) {
        const LayerCase c{.type = type, .params = params, .inputs = {f32({1, 1000})},
                          .batch = 60};
        expectSplitMatchesCpu(c, batchedNumel(c, 0));
    }
    for (const auto& [shape, dim] : std::vector<std::pair<std::vector<int64_t>, int64_t>>{
             {{1, 50, 40}, -1}, {{1, 50, 40}, 1}}) {
        const LayerCase c{.type = "softmax", .params = {{"dim", dim}}, .inputs = {f32(shape)},
                          .batch = 30};
        expectSplitMatchesCpu(c, batchedNumel(c, 0));
    }
}

TEST_F(BindingLimitTest, LossesSplitAcrossBindings) {
    const LayerCase ce{.type = "cross_entropy", .params = {{"label_smoothing", 0.1}},
                       .inputs = {f32({1, 100}), i32({1})}, .batch = 300, .intRange = 100};
    expectSplitMatchesCpu(ce, batchedNumel(ce, 0));
    const LayerCase seq{.type = "cross_entropy", .params = {{"ignore_index", int64_t(3)}},
                        .inputs = {f32({1, 20, 50}), i32({1, 20})}, .batch = 30, .intRange = 50};
    expectSplitMatchesCpu(seq, batchedNumel(seq, 0));
    for (const char* type : {"mse", "bce_with_logits"}) {
        const LayerCase c{.type = type, .inputs = {f32({1, 500}), f32({1, 500})}, .batch = 80};
        expectSplitMatchesCpu(c, batchedNumel(c, 0));
    }
}

TEST_F(BindingLimitTest, ConvAndPoolingSplitAcrossBindings) {
    const LayerCase conv{.type = "conv2d",
                         .params = {{"out_channels", int64_t(16)}, {"kernel_size", int64_t(3)},
                                    {"padding", int64_t(1)}},
                         .inputs = {f32({1, 4, 20, 20})}, .batch = 12};
    expectSplitMatchesCpu(conv, batchedNumel(conv, 0));
    for (const char* type : {"max_pool2d", "avg_pool2d"}) {
        const LayerCase c{.type = type,
                          .params = {{"kernel_size", int64_t(3)}, {"stride", int64_t(2)},
                                     {"padding", int64_t(1)}},
                          .inputs = {f32({1, 8, 32, 32})}, .batch = 8};
        expectSplitMatchesCpu(c, batchedNumel(c, 0));
    }
    const LayerCase gap{.type = "global_avg_pool2d", .inputs = {f32({1, 8, 32, 32})}, .batch = 8};
    expectSplitMatchesCpu(gap, batchedNumel(gap, 0));
}

TEST_F(BindingLimitTest, NormsSplitAcrossBindings) {
    for (bool training : {true, false}) {
        // Chunks of whole samples (N, C) and (N, C, L); of channel planes of one sample (a
        // sample is 25600 floats); of one plane's values (a plane is 22500 floats).
        for (const auto& [shape, batch] : std::vector<std::pair<std::vector<int64_t>, int64_t>>{
                 {{1, 300}, 100}, {{1, 16, 500}, 6}, {{1, 4, 80, 80}, 3}, {{1, 2, 150, 150}, 2}}) {
            const LayerCase c{.type = "batch_norm", .inputs = {f32(shape)}, .batch = batch,
                              .training = training};
            expectSplitMatchesCpu(c, batchedNumel(c, 0));
        }
    }
    const LayerCase ln{.type = "layer_norm", .inputs = {f32({1, 60, 200})}, .batch = 6};
    expectSplitMatchesCpu(ln, batchedNumel(ln, 0));
}

TEST_F(BindingLimitTest, EmbeddingSplitsAcrossBindings) {
    // weight [300, 40]: 12000 floats; output (6, 100, 40): 24000.
    expectSplitMatchesCpu({.type = "embedding",
                           .params = {{"num_embeddings", int64_t(300)},
                                      {"embedding_dim", int64_t(40)}},
                           .inputs = {i32({1, 100})}, .batch = 6, .intRange = 300},
                          6 * 100 * 40);
}

// Each time step binds only its own rows of the sequence tensors (gpu/ops/recurrent.cpp), in
// blocks of batch rows when those do not fit; the GEMMs over all steps split along rows or
// their reduction.
TEST_F(BindingLimitTest, RecurrentLayersSplitAcrossBindings) {
    for (const char* type : {"rnn", "lstm", "gru"}) {
        SCOPED_TRACE(type);
        // hidden 48 on (12, 20, 32), bidirectional: the sequence output (12, 20, 96) is 23040
        // floats, lstm's input projections (12, 20, 192) 46080: each step runs in blocks of
        // batch rows (rnn 2 of 6, lstm 3 of 4), partial blocks of the shaders' 8 rows.
        expectSplitMatchesCpu({.type = type,
                               .params = {{"hidden_size", int64_t(48)}, {"bidirectional", true}},
                               .inputs = {f32({1, 20, 32})}, .batch = 12, .tol = 2e-4},
                              12 * 20 * 96);
        // Two bidirectional layers on (12, 40, 16), hidden 32: each layer's hidden sequence
        // (12, 40, 64) is 120 KiB, lstm's gates 240 KiB, the gate gradients twice that; the
        // second layer reads the first's sequence and sends its gradient back through it.
        expectSplitMatchesCpu({.type = type,
                               .params = {{"hidden_size", int64_t(32)},
                                          {"num_layers", int64_t(2)},
                                          {"bidirectional", true},
                                          {"output", std::string("last")},
                                          {"bias", std::string(type) != "lstm"}},
                               .inputs = {f32({1, 40, 16})}, .batch = 12, .tol = 2e-4},
                              12 * 40 * 64);
    }
    // One sample's sequence larger than a binding, so one batch row per dispatch: lstm input
    // projections (2, 180, 96) and gru's (3, 200, 96), 17280 and 19200 floats a sample (a tanh
    // rnn that long is chaotic under the test's weights: float rounding alone decides it).
    expectSplitMatchesCpu({.type = "lstm",
                           .params = {{"hidden_size", int64_t(24)}, {"bidirectional", true}},
                           .inputs = {f32({1, 180, 4})}, .batch = 2, .tol = 2e-4},
                          180 * 96);
    expectSplitMatchesCpu({.type = "gru",
                           .params = {{"hidden_size", int64_t(32)},
                                      {"output", std::string("last")}},
                           .inputs = {f32({1, 200, 4})}, .batch = 3, .tol = 2e-4},
                          200 * 96);
}

TEST_F(BindingLimitTest, AttentionLayersSplitAcrossBindings) {
    const LayerCase pe{.type = "positional_encoding",
                       .params = {{"kind", std::string("learned")}, {"dropout", 0.2}},
                       .inputs = {f32({1, 200, 64})}, .batch = 4};
    expectSplitMatchesCpu(pe, batchedNumel(pe, 0));
    // Attention probabilities (4, 4, 64, 64): 65536 floats. Dropout everywhere: each part's
    // masks must be the whole tensor's, as on the CPU.
    expectSplitMatchesCpu({.type = "multi_head_attention",
                           .params = {{"num_heads", int64_t(4)}, {"causal", true},
                                      {"dropout", 0.2}},
                           .inputs = {f32({1, 64, 64})}, .batch = 4, .tol = 2e-4},
                          4 * 4 * 64 * 64);
    expectSplitMatchesCpu({.type = "transformer_encoder_layer",
                           .params = {{"d_model", int64_t(64)}, {"nhead", int64_t(4)},
                                      {"dim_feedforward", int64_t(128)}, {"dropout", 0.1}},
                           .inputs = {f32({1, 48, 64})}, .batch = 4, .tol = 2e-4},
                          4 * 48 * 128);
}

// Kernels that bind one row, slice or weight whole refuse, naming the tensor and the binding
// limit, when that one piece is larger than a binding: no binding past the device's limit is
// ever recorded.
TEST_F(BindingLimitTest, PiecesThatCannotSplitAreRefusedWithASentence) {
    // A weight of 20000 floats: linear's products and conv2d's bind one whole, and so do the
    // embedding gather and its gradient; one sample's im2col columns (3 * 9 * 30 * 30 floats)
    // are conv2d's smallest part.
    expectRefusal({.type = "linear", .params = {{"out_features", int64_t(100)}},
                   .inputs = {f32({1, 200})}, .batch = 2},
                  100 * 200);
    expectRefusal({.type = "conv2d",
                   .params = {{"out_channels", int64_t(4)}, {"kernel_size", int64_t(3)},
                              {"padding", int64_t(1)}},
                   .inputs = {f32({1, 3, 30, 30})}, .batch = 2},
                  3 * 9 * 30 * 30);
    expectRefusal({.type = "embedding",
                   .params = {{"num_embeddings", int64_t(500)}, {"embedding_dim", int64_t(40)}},
                   .inputs = {i32({1, 10})}, .batch = 2, .intRange = 500},
                  500 * 40);
    // One row of 20000 classes, one layer-norm row and one softmax row of 20000 values.
    LayerCase ce{.type = "cross_entropy", .inputs = {f32({1, 20000}), i32({1})}, .batch = 2,
                 .intRange = 20000};
    ce.refuses = "one row of 20000 class scores is more than the device binds at once";
    ce.maxBindingBytes = kLimit;
    EXPECT_EQ(expectMatchesCpu(ce), 1u);
    LayerCase ln{.type = "layer_norm", .inputs = {f32({1, 20000})}, .batch = 2};
    ln.refuses = "one row of 20000 values is more than the device binds at once";
    ln.maxBindingBytes = kLimit;
    EXPECT_EQ(expectMatchesCpu(ln), 1u);
    // lstm's weight_hh_l0 [288, 72] is 20736 floats: the step kernel and dW_hh bind it whole.
    LayerCase lstm{.type = "lstm", .params = {{"hidden_size", int64_t(72)}},
                   .inputs = {f32({1, 3, 8})}, .batch = 2};
    lstm.refuses = "lstm 'lstm': weight_hh_l0 [288, 72] spans 81.0 KiB, more than the device "
                   "binds at once (64.0 KiB)";
    lstm.maxBindingBytes = kLimit;
    EXPECT_EQ(expectMatchesCpu(lstm), 1u);
    LayerCase sm{.type = "softmax", .inputs = {f32({1, 20000})}, .batch = 2};
    sm.refuses = "one slice of 20000 values is more than the device binds at once";
    sm.maxBindingBytes = kLimit;
    EXPECT_EQ(expectMatchesCpu(sm), 1u);
}

// Splitting costs dispatches only where a tensor exceeds a binding: under the device's own limit
// add, concat and batch_norm record one dispatch per direction, as before splitting existed.
TEST_F(GpuTest, TensorsThatFitOneBindingKeepOneDispatchPerDirection) {
    const Shape ys({3, 40, 25, 30}), as({3, 40, 1, 30}), bs({3, 1, 25, 30});  // 90000 floats
    const GpuTensor a{upload(randomFloats(size_t(as.numel()), 1)), as};
    const GpuTensor b{upload(randomFloats(size_t(bs.numel()), 2)), bs};
    const GpuTensor y{zeros(uint64_t(ys.numel())), ys};
    const GpuTensor da{zeros(uint64_t(as.numel())), as}, db{zeros(uint64_t(bs.numel())), bs};
    const Shape cs({3, 80, 25, 30});
    const GpuTensor c{zeros(uint64_t(cs.numel())), cs};
    const ops::BatchNormDims bn{3, 40, 750};
    const BufferRange stats = zeros(6 * 40);
    auto channels = [&](int k) { return stats.floatsAt(40ull * k, 40); };
    auto record = [&](const std::function<Result<void>(Recorder&)>& ops) -> size_t {
        auto rec = recorder();
        auto r = ops(*rec);
        EXPECT_TRUE(r.ok()) << r.message();
        return rec->commandCount();
    };
    const std::vector<std::pair<const char*, std::function<Result<void>(Recorder&)>>> kernels = {
        {"add forward", [&](Recorder& r) { return ops::recordAddFwd(r, {a, b}, y, "add"); }},
        {"add backward", [&](Recorder& r) { return ops::recordAddBwd(r, y, {da, db}, "add"); }},
        {"concat forward",
         [&](Recorder& r) { return ops::recordConcatFwd(r, 1, {y, y}, c, "concat"); }},
        {"concat backward",
         [&](Recorder& r) {
             return ops::recordConcatBwd(r, 1, c, {ys, ys}, {y, GpuTensor{}}, "concat");
         }},
        {"batch_norm forward",
         [&](Recorder& r) {
             return ops::recordBatchNormFwd(
                 r, {.dims = bn, .x = y.range, .y = y.range, .gamma = channels(0),
                     .beta = channels(1), .runningMean = channels(2), .runningVar = channels(3),
                     .mean = channels(4), .invstd = channels(5)});
         }},
        {"batch_norm backward",
         [&](Recorder& r) {
             return ops::recordBatchNormBwd(
                 r, {.dims = bn, .x = y.range, .dy = y.range, .gamma = channels(0),
                     .mean = channels(4), .invstd = channels(5), .dx = c.range.floatsAt(0, 90000),
                     .dgamma = channels(1), .dbeta = channels(2),
                     .sums = c.range.floatsAt(100000, 80)});
         }},
    };
    for (const auto& [what, kernel] : kernels) {
        EXPECT_EQ(record(kernel), 1u) << what << " with the device's own binding limit";
        dev().setMaxBindingBytesForTesting(kLimit);
        EXPECT_GT(record(kernel), 1u) << what << " with 64 KiB bindings";
        dev().setMaxBindingBytesForTesting(~0ull);
    }
}

// A recurrent step records one dispatch, forward and backward, whenever its rows of the
// sequences fit one binding (lavapipe pays per dispatch, and a layer runs one per step), and
// blocks of batch rows only past that. lstm, reverse direction (t_prev = t + 1), hidden 32 on
// (12, 40): the input projections and gate tensors (12, 40, 128) are 61440 floats.
TEST_F(GpuTest, RecurrentStepsKeepOneDispatchPerStepWhenTheirRowsFit) {
    const uint32_t N = 12, T = 40, H = 32, GH = 4 * H, HD = 2 * H;
    const ops::RnnStep step{.cell = ops::RnnCell::Lstm, .batch = N, .steps = T, .hidden = H,
                            .seqWidth = HD, .dirOffset = H, .t = 20, .tPrev = 21};
    auto seq = [&](uint64_t width) { return zeros(uint64_t(N) * T * width); };
    const ops::RnnStepFwdTensors fwd{.pre = seq(GH), .whh = zeros(GH * H), .bhh = zeros(GH),
                                     .hsPrev = zeros(N * H), .hsNext = zeros(N * H),
                                     .seq = seq(HD), .gates = seq(GH), .extra = seq(H),
                                     .y = seq(HD), .output = ops::RnnOutput::Sequence};
    const ops::RnnStepBwdTensors bwd{.whh = fwd.whh, .dqNext = zeros(N * GH), .dy = fwd.y,
                                     .seq = fwd.seq, .gates = fwd.gates, .extra = fwd.extra,
                                     .dxp = seq(GH), .dq = zeros(N * GH),
                                     .hPrev = zeros(N * H), .dc = zeros(N * H)};
    auto record = [&](bool backward) -> size_t {
        auto rec = recorder();
        auto r = backward ? ops::recordRnnStepBwd(*rec, step, bwd, "lstm step bwd")
                          : ops::recordRnnStepFwd(*rec, step, fwd, "lstm step");
        EXPECT_TRUE(r.ok()) << r.message();
        return rec->commandCount();
    };
    for (bool backward : {false, true}) {
        SCOPED_TRACE(backward ? "backward" : "forward");
        EXPECT_EQ(record(backward), 1u) << "with the device's own binding limit";
        dev().setMaxBindingBytesForTesting(kLimit);
        // Rows n*T + 20 and 21 of 12 samples span (11 * 40 + 2) * 128 floats: 4 samples fit.
        EXPECT_EQ(record(backward), 3u) << "with 64 KiB bindings";
        dev().setMaxBindingBytesForTesting(~0ull);
    }
}

}  // namespace
}  // namespace strata::gpu::test

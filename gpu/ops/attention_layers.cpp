// Vulkan kernels of the attention family (core/layers/attention.cpp): layer_norm,
// positional_encoding, multi_head_attention and transformer_encoder_layer. They follow the CPU
// kernels step by step (core/layers/attention_kernels.h) with the same aux layout, so the
// studio's attention view and either backend's backward read the same saved tensors. The block
// is composed from the same pieces as the single layers, with the CPU's dropout sites.
#include <cmath>

#include "gpu/layer_kernels.h"
#include "gpu/ops/attention.h"
#include "gpu/ops/gemm.h"
#include "gpu/ops/layer_norm.h"

namespace strata::gpu {

namespace {

using ops::Activation;
using ops::DropoutSite;

// Returns the error of a recording step that failed.
#define TRY(expr)                             \
    do {                                      \
        if (auto r_ = (expr); !r_) return r_; \
    } while (0)

// The sub-range of `count` floats at `first`, or empty for an absent tensor.
BufferRange sub(const BufferRange& r, uint64_t first, uint64_t count) {
    return r.empty() ? BufferRange{} : r.floatsAt(first, count);
}

BufferRange rangeOr(const std::vector<GpuTensor>& v, size_t i) {
    return i < v.size() ? v[i].range : BufferRange{};
}

Result<BufferRange> scratch(const GpuOpContext& c, uint64_t floats, const std::string& what) {
    return c.scratch(floats, c.label(what));
}

// A row of ones for bias gradients (db += 1ᵀ dy), made once per op at the longest length asked.
class Ones {
public:
    explicit Ones(const GpuOpContext& c) : m_c(c) {}
    Result<BufferRange> get(uint64_t n) {
        if (m_range.floats() < n) {
            auto r = scratch(m_c, n, "ones");
            if (!r) return r.error();
            if (auto f = m_c.rec.fill(*r, 0x3f800000u, m_c.label("ones")); !f) return f.error();
            m_range = *r;
        }
        return m_range.floatsAt(0, n);
    }

private:
    const GpuOpContext& m_c;
    BufferRange m_range;
};

DropoutSite dropoutSite(const GpuOpContext& c, double p, uint32_t site) {
    return {c.seed, float(p), site, c.training && p > 0.0};
}

// y (rows, out) = x (rows, in) wᵀ + b; b may be empty.
Result<void> linearFwd(const GpuOpContext& c, uint64_t rows, uint64_t in, uint64_t out,
                       const BufferRange& x, const BufferRange& w, const BufferRange& b,
                       const BufferRange& y, Activation act = Activation::None) {
    return ops::recordGemm(c.rec, {.transB = true, .M = uint32_t(rows), .N = uint32_t(out),
                                   .K = uint32_t(in), .a = x, .b = w, .c = y, .bias = b,
                                   .activation = act});
}

// dx (+)= dy w, dw += dyᵀ x, db += colsum(dy); each skipped when empty.
Result<void> linearBwd(const GpuOpContext& c, Ones& ones, uint64_t rows, uint64_t in,
                       uint64_t out, const BufferRange& x, const BufferRange& dy,
                       const BufferRange& w, const BufferRange& dx, bool accumulate,
                       const BufferRange& dw, const BufferRange& db) {
    if (!dx.empty()) {
        TRY(ops::recordGemm(c.rec, {.M = uint32_t(rows), .N = uint32_t(in), .K = uint32_t(out),
                                    .beta = accumulate ? 1.0f : 0.0f, .a = dy, .b = w, .c = dx}));
    }
    if (!dw.empty()) {
        TRY(ops::recordGemm(c.rec, {.transA = true, .M = uint32_t(out), .N = uint32_t(in),
                                    .K = uint32_t(rows), .beta = 1.0f, .a = dy, .b = x, .c = dw}));
    }
    if (!db.empty()) {
        auto one = ones.get(rows);
        if (!one) return one.error();
        TRY(ops::recordGemm(c.rec, {.M = 1, .N = uint32_t(out), .K = uint32_t(rows), .beta = 1.0f,
                                    .a = *one, .b = dy, .c = db}));
    }
    return {};
}

// ---- layer_norm ----

Result<void> layer_norm_fwd(const GpuOpContext& c) {
    const GpuTensor& x = c.inputs[0];  // (rows, D)
    const int64_t d = x.shape[-1], rows = x.numel() / d;
    const ops::LayerNormArgs a{uint32_t(rows), uint32_t(d), float(getFloat(c.params, "eps")),
                               x.range, rangeOr(c.weights, 0), rangeOr(c.weights, 1),
                               c.aux[0].range, c.aux[1].range};
    return ops::recordLayerNormFwd(c.rec, a, c.outputs[0].range);
}

Result<void> layer_norm_bwd(const GpuOpContext& c) {
    const GpuTensor& x = c.inputs[0];  // (rows, D)
    const int64_t d = x.shape[-1], rows = x.numel() / d;
    const ops::LayerNormArgs a{uint32_t(rows), uint32_t(d), float(getFloat(c.params, "eps")),
                               x.range, rangeOr(c.weights, 0), rangeOr(c.weights, 1),
                               c.aux[0].range, c.aux[1].range};
    return ops::recordLayerNormBwd(c.rec, a, c.gradOutputs[0].range, c.gradInputs[0].range, true,
                                   rangeOr(c.gradWeights, 0), rangeOr(c.gradWeights, 1));
}

// ---- positional_encoding ----

Result<void> positional_encoding_fwd(const GpuOpContext& c) {
    const GpuTensor& x = c.inputs[0];  // (N, T, D)
    return ops::recordPositionalFwd(
        c.rec, uint32_t(x.shape[0]), uint32_t(x.shape[1]), uint32_t(x.shape[2]), x.range,
        rangeOr(c.weights, 0), dropoutSite(c, getFloat(c.params, "dropout"), 0),
        c.outputs[0].range);
}

Result<void> positional_encoding_bwd(const GpuOpContext& c) {
    const GpuTensor& dy = c.gradOutputs[0];  // (N, T, D)
    return ops::recordPositionalBwd(
        c.rec, uint32_t(dy.shape[0]), uint32_t(dy.shape[1]), uint32_t(dy.shape[2]), dy.range,
        dropoutSite(c, getFloat(c.params, "dropout"), 0), c.gradInputs[0].range,
        rangeOr(c.gradWeights, 0));
}

// ---- multi-head attention core (attn::mhaFwd / mhaBwd) ----

struct MhaDims {
    uint32_t n, t, s, e, h;  // batch, query length, key length, embed size, heads
    uint32_t dh() const { return e / h; }
};

struct MhaParams {  // weights or their gradients; biases (and absent gradients) empty
    BufferRange inW, inB, outW, outB;
};

MhaParams mhaParams(const std::vector<GpuTensor>& v, bool bias, size_t first) {
    return {rangeOr(v, first), bias ? rangeOr(v, first + 1) : BufferRange{},
            rangeOr(v, first + (bias ? 2 : 1)), bias ? rangeOr(v, first + 3) : BufferRange{}};
}

struct MhaAux {  // the CPU's MhaSaved
    BufferRange attention;  // (N, H, T, S) probabilities before dropout
    BufferRange q;          // (N, H, T, Dh)
    BufferRange k;          // (N, H, S, Dh)
    BufferRange v;          // (N, H, S, Dh)
    BufferRange context;    // (N, T, E)
};

MhaAux mhaAux(const std::vector<GpuTensor>& aux, size_t first) {
    return {aux[first].range, aux[first + 1].range, aux[first + 2].range, aux[first + 3].range,
            aux[first + 4].range};
}

// out (N, T, E) = mha(x (N, T, E), memory (N, S, E) or empty for self-attention).
Result<void> mhaFwd(const GpuOpContext& c, const MhaDims& d, const BufferRange& x,
                    const BufferRange& memory, const MhaParams& w, bool causal,
                    const DropoutSite& drop, const MhaAux& aux, const BufferRange& out) {
    const uint64_t E = d.e, rowsQ = uint64_t(d.n) * d.t, rowsK = uint64_t(d.n) * d.s;
    const uint32_t dh = d.dh(), blocks = d.n * d.h;
    if (memory.empty()) {
        auto qkv = scratch(c, rowsQ * 3 * E, "qkv");  // (N, T, 3E)
        if (!qkv) return qkv.error();
        TRY(linearFwd(c, rowsQ, E, 3 * E, x, w.inW, w.inB, *qkv));
        const BufferRange heads[] = {aux.q, aux.k, aux.v};
        TRY(ops::recordHeadSplit(c.rec, d.n, d.t, d.h, dh, *qkv, 3 * d.e, 0, heads));
    } else {
        auto q = scratch(c, rowsQ * E, "q rows");        // (N, T, E)
        auto kv = scratch(c, rowsK * 2 * E, "kv rows");  // (N, S, 2E)
        if (!q) return q.error();
        if (!kv) return kv.error();
        TRY(linearFwd(c, rowsQ, E, E, x, w.inW.floatsAt(0, E * E), sub(w.inB, 0, E), *q));
        // Rows E..3E of in_proj_weight are the key and value projections, contiguous.
        TRY(linearFwd(c, rowsK, E, 2 * E, memory, w.inW.floatsAt(E * E, 2 * E * E),
                      sub(w.inB, E, 2 * E), *kv));
        const BufferRange qHeads[] = {aux.q};
        const BufferRange kvHeads[] = {aux.k, aux.v};
        TRY(ops::recordHeadSplit(c.rec, d.n, d.t, d.h, dh, *q, d.e, 0, qHeads));
        TRY(ops::recordHeadSplit(c.rec, d.n, d.s, d.h, dh, *kv, 2 * d.e, 0, kvHeads));
    }
    // scores (N*H, T, S) = q kᵀ / sqrt(Dh), written straight into the saved probabilities
    const float scale = 1.0f / std::sqrt(float(dh));
    TRY(ops::recordGemm(c.rec, {.transB = true, .M = d.t, .N = d.s, .K = dh, .batch = blocks,
                                .alpha = scale, .a = aux.q, .b = aux.k, .c = aux.attention}));
    BufferRange probs = aux.attention;
    if (drop.enabled) {
        auto dropped = scratch(c, uint64_t(blocks) * d.t * d.s, "dropped attention");
        if (!dropped) return dropped.error();
        probs = *dropped;
    }
    TRY(ops::recordAttentionSoftmaxFwd(c.rec, blocks, d.t, d.s, causal, aux.attention, drop,
                                       probs));
    auto ctx = scratch(c, uint64_t(blocks) * d.t * dh, "context heads");  // (N, H, T, Dh)
    if (!ctx) return ctx.error();
    TRY(ops::recordGemm(c.rec, {.M = d.t, .N = dh, .K = d.s, .batch = blocks, .a = probs,
                                .b = aux.v, .c = *ctx}));
    const BufferRange ctxHeads[] = {*ctx};
    TRY(ops::recordHeadMerge(c.rec, d.n, d.t, d.h, dh, ctxHeads, aux.context, d.e, 0));
    return linearFwd(c, rowsQ, E, E, aux.context, w.outW, w.outB, out);
}

// dx (N, T, E) (+)= and dmemory (N, S, E) += the input gradients (each skipped when empty);
// g += the weight gradients. For self-attention q, k and v all flow into dx.
Result<void> mhaBwd(const GpuOpContext& c, Ones& ones, const MhaDims& d, const BufferRange& x,
                    const BufferRange& memory, const MhaParams& w, const DropoutSite& drop,
                    const MhaAux& aux, const BufferRange& dout, const BufferRange& dx,
                    bool accumulate, const BufferRange& dmemory, const MhaParams& g) {
    const uint64_t E = d.e, rowsQ = uint64_t(d.n) * d.t, rowsK = uint64_t(d.n) * d.s;
    const uint32_t dh = d.dh(), blocks = d.n * d.h;
    const uint64_t P = uint64_t(blocks) * d.t * d.s;
    auto dcontext = scratch(c, rowsQ * E, "context gradient");  // (N, T, E)
    if (!dcontext) return dcontext.error();
    TRY(linearBwd(c, ones, rowsQ, E, E, aux.context, dout, w.outW, *dcontext, false, g.outW,
                  g.outB));
    auto dctx = scratch(c, uint64_t(blocks) * d.t * dh, "context heads gradient");
    if (!dctx) return dctx.error();
    const BufferRange dctxHeads[] = {*dctx};
    TRY(ops::recordHeadSplit(c.rec, d.n, d.t, d.h, dh, *dcontext, d.e, 0, dctxHeads));

    BufferRange probs = aux.attention;  // what forward multiplied with v
    if (drop.enabled) {
        auto dropped = scratch(c, P, "dropped attention");
        if (!dropped) return dropped.error();
        TRY(ops::recordDropoutInto(c.rec, aux.attention, drop, *dropped, false));
        probs = *dropped;
    }
    auto dv = scratch(c, uint64_t(blocks) * d.s * dh, "v gradient");  // (N, H, S, Dh)
    auto dp = scratch(c, P, "attention gradient");                     // (N, H, T, S)
    if (!dv) return dv.error();
    if (!dp) return dp.error();
    TRY(ops::recordGemm(c.rec, {.transA = true, .M = d.s, .N = dh, .K = d.t, .batch = blocks,
                                .a = probs, .b = *dctx, .c = *dv}));
    TRY(ops::recordGemm(c.rec, {.transB = true, .M = d.t, .N = d.s, .K = dh, .batch = blocks,
                                .a = *dctx, .b = aux.v, .c = *dp}));
    TRY(ops::recordAttentionSoftmaxBwd(c.rec, blocks, d.t, d.s, aux.attention, drop, *dp));
    const float scale = 1.0f / std::sqrt(float(dh));
    auto dq = scratch(c, uint64_t(blocks) * d.t * dh, "q gradient");  // (N, H, T, Dh)
    auto dk = scratch(c, uint64_t(blocks) * d.s * dh, "k gradient");  // (N, H, S, Dh)
    if (!dq) return dq.error();
    if (!dk) return dk.error();
    TRY(ops::recordGemm(c.rec, {.M = d.t, .N = dh, .K = d.s, .batch = blocks, .alpha = scale,
                                .a = *dp, .b = aux.k, .c = *dq}));
    TRY(ops::recordGemm(c.rec, {.transA = true, .M = d.s, .N = dh, .K = d.t, .batch = blocks,
                                .alpha = scale, .a = *dp, .b = aux.q, .c = *dk}));

    if (memory.empty()) {
        auto dqkv = scratch(c, rowsQ * 3 * E, "qkv gradient");  // (N, T, 3E)
        if (!dqkv) return dqkv.error();
        const BufferRange heads[] = {*dq, *dk, *dv};
        TRY(ops::recordHeadMerge(c.rec, d.n, d.t, d.h, dh, heads, *dqkv, 3 * d.e, 0));
        return linearBwd(c, ones, rowsQ, E, 3 * E, x, *dqkv, w.inW, dx, accumulate, g.inW,
                         g.inB);
    }
    auto dqr = scratch(c, rowsQ * E, "q rows gradient");        // (N, T, E)
    auto dkv = scratch(c, rowsK * 2 * E, "kv rows gradient");   // (N, S, 2E)
    if (!dqr) return dqr.error();
    if (!dkv) return dkv.error();
    const BufferRange qHeads[] = {*dq};
    const BufferRange kvHeads[] = {*dk, *dv};
    TRY(ops::recordHeadMerge(c.rec, d.n, d.t, d.h, dh, qHeads, *dqr, d.e, 0));
    TRY(ops::recordHeadMerge(c.rec, d.n, d.s, d.h, dh, kvHeads, *dkv, 2 * d.e, 0));
    TRY(linearBwd(c, ones, rowsQ, E, E, x, *dqr, w.inW.floatsAt(0, E * E), dx, accumulate,
                  sub(g.inW, 0, E * E), sub(g.inB, 0, E)));
    return linearBwd(c, ones, rowsK, E, 2 * E, memory, *dkv, w.inW.floatsAt(E * E, 2 * E * E),
                     dmemory, true, sub(g.inW, E * E, 2 * E * E), sub(g.inB, E, 2 * E));
}

// ---- multi_head_attention ----

MhaDims mhaDimsOf(const GpuOpContext& c, int64_t heads) {
    const GpuTensor& q = c.inputs[0];  // (N, T, E)
    const bool cross = c.inputs.size() > 1 && c.inputs[1].present();
    return {uint32_t(q.shape[0]), uint32_t(q.shape[1]),
            uint32_t(cross ? c.inputs[1].shape[1] : q.shape[1]), uint32_t(q.shape[2]),
            uint32_t(heads)};
}

Result<void> multi_head_attention_fwd(const GpuOpContext& c) {
    const bool bias = getBool(c.params, "bias");
    return mhaFwd(c, mhaDimsOf(c, getInt(c.params, "num_heads")), c.inputs[0].range,
                  rangeOr(c.inputs, 1), mhaParams(c.weights, bias, 0), getBool(c.params, "causal"),
                  dropoutSite(c, getFloat(c.params, "dropout"), 0), mhaAux(c.aux, 0),
                  c.outputs[0].range);
}

Result<void> multi_head_attention_bwd(const GpuOpContext& c) {
    const bool bias = getBool(c.params, "bias");
    const BufferRange memory = rangeOr(c.inputs, 1);
    Ones ones(c);
    return mhaBwd(c, ones, mhaDimsOf(c, getInt(c.params, "num_heads")), c.inputs[0].range, memory,
                  mhaParams(c.weights, bias, 0),
                  dropoutSite(c, getFloat(c.params, "dropout"), 0), mhaAux(c.aux, 0),
                  c.gradOutputs[0].range, c.gradInputs[0].range, true,
                  memory.empty() ? BufferRange{} : rangeOr(c.gradInputs, 1),
                  mhaParams(c.gradWeights, bias, 0));
}

// ---- transformer_encoder_layer (see the CPU's composition in core/layers/attention.cpp) ----

enum BlockWeight : size_t {
    kInProjW, kInProjB, kOutProjW, kOutProjB, kLinear1W, kLinear1B, kLinear2W, kLinear2B,
    kNorm1W, kNorm1B, kNorm2W, kNorm2B
};

enum BlockAux : size_t {
    kAttention, kQ, kK, kV, kContext, kNorm1Mean, kNorm1Rstd, kNorm2Mean, kNorm2Rstd,
    kResidual1, kFfnIn, kFfnPre, kFfnAct, kModeInput
};

struct Block {
    uint32_t n, t, e, h, f;
    uint64_t rows, count;  // N*T positions; N*T*E floats
    Activation act;
    bool normFirst, causal;
    float eps;
    DropoutSite attn, drop1, hidden, drop2;  // sites 0..3, as the CPU
};

Block blockOf(const GpuOpContext& c) {
    const GpuTensor& x = c.inputs[0];  // (N, T, E)
    const double p = getFloat(c.params, "dropout");
    Block k{uint32_t(x.shape[0]), uint32_t(x.shape[1]), uint32_t(x.shape[2]),
            uint32_t(getInt(c.params, "nhead")), uint32_t(getInt(c.params, "dim_feedforward")),
            0, 0,
            getString(c.params, "activation") == "gelu" ? Activation::Gelu : Activation::Relu,
            getBool(c.params, "norm_first"), getBool(c.params, "causal"),
            float(getFloat(c.params, "layer_norm_eps")),
            dropoutSite(c, p, 0), dropoutSite(c, p, 1), dropoutSite(c, p, 2),
            dropoutSite(c, p, 3)};
    k.rows = uint64_t(k.n) * k.t;
    k.count = k.rows * k.e;
    return k;
}

// The layer norm over rows of `input` with the weights at `w` and the statistics at `stats`.
ops::LayerNormArgs blockNorm(const GpuOpContext& c, const Block& k, const BufferRange& input,
                             size_t w, size_t stats) {
    return {uint32_t(k.rows), k.e, k.eps, input, c.weights[w].range, c.weights[w + 1].range,
            c.aux[stats].range, c.aux[stats + 1].range};
}

// out (rows, E) = drop2(linear2(drop(act(linear1(ffn_in))))), saving ffn_pre and ffn_act.
Result<void> blockFfnFwd(const GpuOpContext& c, const Block& k, const BufferRange& out) {
    TRY(linearFwd(c, k.rows, k.e, k.f, c.aux[kFfnIn].range, c.weights[kLinear1W].range,
                  c.weights[kLinear1B].range, c.aux[kFfnPre].range));
    TRY(ops::recordActivationDropout(c.rec, k.act, c.aux[kFfnPre].range, k.hidden,
                                     c.aux[kFfnAct].range));
    return linearFwd(c, k.rows, k.f, k.e, c.aux[kFfnAct].range, c.weights[kLinear2W].range,
                     c.weights[kLinear2B].range, out);
}

Result<void> transformer_encoder_layer_fwd(const GpuOpContext& c) {
    const Block k = blockOf(c);
    const BufferRange x = c.inputs[0].range;       // (N, T, E)
    const BufferRange out = c.outputs[0].range;    // (N, T, E)
    const BufferRange r1 = c.aux[kResidual1].range;
    const BufferRange ffnIn = c.aux[kFfnIn].range;
    BufferRange attnIn = x;
    if (k.normFirst) {
        attnIn = c.aux[kModeInput].range;  // norm1(x)
        TRY(ops::recordLayerNormFwd(c.rec, blockNorm(c, k, x, kNorm1W, kNorm1Mean), attnIn));
    }
    auto m = scratch(c, k.count, "attention output");  // (N, T, E) mha(attnIn)
    if (!m) return m.error();
    TRY(mhaFwd(c, {k.n, k.t, k.t, k.e, k.h}, attnIn, {}, mhaParams(c.weights, true, kInProjW),
               k.causal, k.attn, mhaAux(c.aux, kAttention), *m));
    TRY(ops::recordResidualDropout(c.rec, x, *m, k.drop1, r1));  // r1 = x + drop1(m)
    // Both modes normalise r1 before the feed-forward branch, with norm2 in pre-norm.
    TRY(ops::recordLayerNormFwd(
        c.rec,
        k.normFirst ? blockNorm(c, k, r1, kNorm2W, kNorm2Mean)
                    : blockNorm(c, k, r1, kNorm1W, kNorm1Mean),
        ffnIn));
    auto g = scratch(c, k.count, "feed-forward output");  // (N, T, E) before drop2
    if (!g) return g.error();
    TRY(blockFfnFwd(c, k, *g));
    if (k.normFirst) return ops::recordResidualDropout(c.rec, r1, *g, k.drop2, out);
    const BufferRange r2 = c.aux[kModeInput].range;  // ffn_in + drop2(ffn)
    TRY(ops::recordResidualDropout(c.rec, ffnIn, *g, k.drop2, r2));
    return ops::recordLayerNormFwd(c.rec, blockNorm(c, k, r2, kNorm2W, kNorm2Mean), out);
}

BufferRange gradOf(const GpuOpContext& c, size_t w) { return rangeOr(c.gradWeights, w); }

// Floats from `at` rounded up so that a range starting there can be bound on its own.
uint64_t alignedFloats(const GpuOpContext& c, uint64_t at) {
    const uint64_t q = std::max<uint64_t>(1, c.device().bindingAlignment() / 4);
    return (at + q - 1) / q * q;
}

// The feed-forward branch's two (rows, F) hidden gradients, side by side: the largest scratch
// of the block's backward, dead once the branch is done.
uint64_t hiddenGradientFloats(const GpuOpContext& c, const Block& k) {
    return alignedFloats(c, k.rows * k.f) + k.rows * k.f;
}

// `c` whose scratch comes from `region` (dead scratch of the same op) while it lasts, then from
// c's own: the recorder orders the reuse like any other write after read.
GpuOpContext reusing(const GpuOpContext& c, const BufferRange& region, uint64_t& taken) {
    GpuOpContext r = c;
    r.scratch = [&c, region, &taken](uint64_t floats, const std::string& what)
        -> Result<BufferRange> {
        const uint64_t at = alignedFloats(c, taken);
        if (at + floats > region.floats()) return c.scratch(floats, what);
        taken = at + floats;
        return region.floatsAt(at, floats);
    };
    return r;
}

// dffnIn (rows, E) (+)= the gradient through the feed-forward branch of dffnOut (rows, E).
// hidden: hiddenGradientFloats of scratch.
Result<void> blockFfnBwd(const GpuOpContext& c, Ones& ones, const Block& k,
                         const BufferRange& dffnOut, const BufferRange& dffnIn, bool accumulate,
                         const BufferRange& hidden) {
    BufferRange d2 = dffnOut;  // gradient of linear2's output
    if (k.drop2.enabled) {
        auto r = scratch(c, k.count, "linear2 output gradient");
        if (!r) return r.error();
        TRY(ops::recordDropoutInto(c.rec, dffnOut, k.drop2, *r, false));
        d2 = *r;
    }
    const uint64_t hiddenCount = k.rows * k.f;
    const BufferRange dact = hidden.floatsAt(0, hiddenCount);  // (rows, F)
    const BufferRange dpre = hidden.floatsAt(alignedFloats(c, hiddenCount), hiddenCount);
    TRY(linearBwd(c, ones, k.rows, k.f, k.e, c.aux[kFfnAct].range, d2,
                  c.weights[kLinear2W].range, dact, false, gradOf(c, kLinear2W),
                  gradOf(c, kLinear2B)));
    TRY(ops::recordDropoutActivationGrad(c.rec, k.act, c.aux[kFfnPre].range, dact, k.hidden,
                                         dpre, false));
    return linearBwd(c, ones, k.rows, k.e, k.f, c.aux[kFfnIn].range, dpre,
                     c.weights[kLinear1W].range, dffnIn, accumulate, gradOf(c, kLinear1W),
                     gradOf(c, kLinear1B));
}

Result<void> transformer_encoder_layer_bwd(const GpuOpContext& outer) {
    const Block k = blockOf(outer);
    const BufferRange x = outer.inputs[0].range;         // (N, T, E)
    const BufferRange dout = outer.gradOutputs[0].range;  // (N, T, E)
    const BufferRange dx = outer.gradInputs[0].range;     // (N, T, E), may be empty
    const BufferRange r1 = outer.aux[kResidual1].range;
    Ones ones(outer);
    auto dr1 = scratch(outer, k.count, "residual1 gradient");  // (N, T, E)
    auto dffnIn = scratch(outer, k.count, "ffn input gradient");
    auto hidden = scratch(outer, hiddenGradientFloats(outer, k), "hidden gradients");
    if (!dr1) return dr1.error();
    if (!dffnIn) return dffnIn.error();
    if (!hidden) return hidden.error();
    // Everything after the feed-forward branch takes its scratch from the hidden gradients' place
    // first: the attention's backward fits mostly there (W4: 14 MiB of scratch instead of 21).
    uint64_t taken = 0;
    const GpuOpContext c = reusing(outer, *hidden, taken);
    if (k.normFirst) {
        // out = r1 + ffn(norm2(r1))
        TRY(blockFfnBwd(outer, ones, k, dout, *dffnIn, false, *hidden));
        TRY(ops::recordDropoutInto(c.rec, dout, {}, *dr1, false));
        TRY(ops::recordLayerNormBwd(c.rec, blockNorm(c, k, r1, kNorm2W, kNorm2Mean), *dffnIn,
                                    *dr1, true, gradOf(c, kNorm2W), gradOf(c, kNorm2B)));
    } else {
        // out = norm2(r2), r2 = f + ffn(f), f = norm1(r1): dffnIn = dr2 + ffn'(dr2)
        TRY(ops::recordLayerNormBwd(c.rec,
                                    blockNorm(c, k, c.aux[kModeInput].range, kNorm2W, kNorm2Mean),
                                    dout, *dffnIn, false, gradOf(c, kNorm2W), gradOf(c, kNorm2B)));
        TRY(blockFfnBwd(outer, ones, k, *dffnIn, *dffnIn, true, *hidden));
        TRY(ops::recordLayerNormBwd(c.rec, blockNorm(c, k, r1, kNorm1W, kNorm1Mean), *dffnIn,
                                    *dr1, false, gradOf(c, kNorm1W), gradOf(c, kNorm1B)));
    }
    // r1 = x + drop1(mha(attnIn))
    if (!dx.empty()) TRY(ops::recordDropoutInto(c.rec, *dr1, {}, dx, true));
    BufferRange dm = *dr1;
    if (k.drop1.enabled) {
        auto r = scratch(c, k.count, "attention output gradient");
        if (!r) return r.error();
        TRY(ops::recordDropoutInto(c.rec, *dr1, k.drop1, *r, false));
        dm = *r;
    }
    const MhaDims dims{k.n, k.t, k.t, k.e, k.h};
    const MhaParams w = mhaParams(c.weights, true, kInProjW);
    const MhaParams g = mhaParams(c.gradWeights, true, kInProjW);
    const MhaAux aux = mhaAux(c.aux, kAttention);
    if (!k.normFirst) return mhaBwd(c, ones, dims, x, {}, w, k.attn, aux, dm, dx, true, {}, g);
    auto da = scratch(c, k.count, "norm1 output gradient");  // (N, T, E)
    if (!da) return da.error();
    TRY(mhaBwd(c, ones, dims, c.aux[kModeInput].range, {}, w, k.attn, aux, dm, *da, false, {}, g));
    return ops::recordLayerNormBwd(c.rec, blockNorm(c, k, x, kNorm1W, kNorm1Mean), *da, dx, true,
                                   gradOf(c, kNorm1W), gradOf(c, kNorm1B));
}

#undef TRY

}  // namespace

void registerAttentionGpuKernels() {
    registerGpuKernels("layer_norm", {layer_norm_fwd, layer_norm_bwd});
    registerGpuKernels("positional_encoding", {positional_encoding_fwd, positional_encoding_bwd});
    registerGpuKernels("multi_head_attention",
                       {multi_head_attention_fwd, multi_head_attention_bwd});
    registerGpuKernels("transformer_encoder_layer",
                       {transformer_encoder_layer_fwd, transformer_encoder_layer_bwd});
}

}  // namespace strata::gpu

// layer_norm, positional_encoding, multi_head_attention, transformer_encoder_layer.
// The transformer block is composed from the same kernels as the single layers
// (core/layers/attention_kernels.h), and its weights are nn.TransformerEncoderLayer's state_dict.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/engine/cpu_math.h"
#include "core/layers/attention_kernels.h"
#include "core/layers/registry.h"

namespace strata {

namespace {

using attn::Dropout;

constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;

std::string num(int64_t v) { return std::to_string(v); }

Result<void> expectFloat(const LayerContext& c, size_t i) {
    if (c.inputs[i].type->dtype != DType::Float32) {
        return fail("expects float input but " + c.gives(i) + " of integers; add an embedding");
    }
    return {};
}

// All sample dims but the last: the per-row statistics of a normalisation over the last dim.
Shape rowsShape(const Shape& batched) {
    std::vector<int64_t> dims = batched.dims();
    dims.pop_back();
    return Shape(dims);
}

// ---- layer_norm: PyTorch nn.LayerNorm(normalized_shape = last dim) ----

Result<LayerInfo> layerNormInfer(const LayerContext& c) {
    if (auto ok = expectFloat(c, 0); !ok) return ok.error();
    const Shape& x = c.shape(0);
    if (!x.isBatched() || x.rank() < 2) {
        return fail("expects an input with features in its last dimension (N, ..., D) but " +
                    c.gives(0));
    }
    const int64_t d = x[-1];
    const bool affine = getBool(c.params, "elementwise_affine");
    LayerInfo info;
    info.outputs.push_back({x, DType::Float32});
    if (affine) {
        info.weights.push_back({"weight", {d}, Init::ones()});
        info.weights.push_back({"bias", {d}, Init::zeros()});
    }
    info.aux.push_back({"mean", rowsShape(x)});  // (N, ...)
    info.aux.push_back({"rstd", rowsShape(x)});  // (N, ...)
    info.flops = x.numel() * (affine ? 7 : 5);
    return info;
}

void layer_norm_fwd(const OpContext& c) {
    const TensorView& x = c.inputs[0];  // (rows, D)
    const int64_t d = x.shape[-1], rows = x.numel() / d;
    const bool affine = !c.weights.empty();
    attn::layerNormRowsFwd(x.data, rows, d, static_cast<float>(getFloat(c.params, "eps")),
                           affine ? c.weights[0].data : nullptr,
                           affine ? c.weights[1].data : nullptr, c.outputs[0].data,
                           c.aux[0].data, c.aux[1].data);
}

void layer_norm_bwd(const OpContext& c) {
    const TensorView& x = c.inputs[0];  // (rows, D)
    const int64_t d = x.shape[-1], rows = x.numel() / d;
    const bool affine = !c.weights.empty();
    attn::layerNormRowsBwd(x.data, c.gradOutputs[0].data, rows, d,
                           affine ? c.weights[0].data : nullptr, c.aux[0].data, c.aux[1].data,
                           c.gradInputs[0].data, affine ? c.gradWeights[0].data : nullptr,
                           affine ? c.gradWeights[1].data : nullptr);
}

// ---- positional_encoding: out = dropout(x + pe[:T]) ----

Result<LayerInfo> positionalInfer(const LayerContext& c) {
    if (auto ok = expectFloat(c, 0); !ok) return ok.error();
    const Shape& x = c.shape(0);
    if (!x.isBatched() || x.rank() != 3) {
        return fail("expects a sequence (N, T, D) but " + c.gives(0));
    }
    const int64_t maxLen = getInt(c.params, "max_len");
    if (x[1] > maxLen) {
        return fail("expects at most max_len = " + num(maxLen) + " positions but " + c.gives(0) +
                    "; raise max_len to " + num(x[1]));
    }
    LayerInfo info;
    info.outputs.push_back({x, DType::Float32});
    if (getString(c.params, "kind") == "learned") {
        info.weights.push_back({"weight", {maxLen, x[2]}, Init::normal(0.0, 1.0)});
    }
    info.flops = x.numel() * (getFloat(c.params, "dropout") > 0 ? 2 : 1);
    return info;
}

// The PyTorch tutorial's table: pe[t, 2i] = sin(t / 10000^(2i/D)), pe[t, 2i+1] = cos(same).
float sinusoid(int64_t t, int64_t j, int64_t d) {
    const int64_t even = j - (j % 2);
    const double freq = std::exp(-static_cast<double>(even) * std::log(10000.0) / double(d));
    const double angle = static_cast<double>(t) * freq;
    return static_cast<float>(j % 2 == 0 ? std::sin(angle) : std::cos(angle));
}

void positional_encoding_fwd(const OpContext& c) {
    const TensorView& x = c.inputs[0];    // (N, T, D)
    const TensorView& y = c.outputs[0];   // (N, T, D)
    const int64_t n = x.shape[0], t = x.shape[1], d = x.shape[2];
    const bool learned = !c.weights.empty();
    const float* pe = learned ? c.weights[0].data : nullptr;  // (T, D): the table's first rows
    if (!learned) {
        float* table = attn::scratch(attn::Scratch::Positional, t * d);  // (T, D)
        for (int64_t i = 0; i < t; ++i) {
            for (int64_t j = 0; j < d; ++j) table[i * d + j] = sinusoid(i, j, d);
        }
        pe = table;
    }
    const float* xs = x.data;
    float* ys = y.data;
    cpu::parallelFor(n, std::max<int64_t>(1, 16384 / (t * d)), [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
            for (int64_t k = 0; k < t * d; ++k) ys[b * t * d + k] = xs[b * t * d + k] + pe[k];
        }
    });
    Dropout::make(c.training, getFloat(c.params, "dropout"), c.seed, 0).apply(y.data, y.numel());
}

void positional_encoding_bwd(const OpContext& c) {
    const TensorView& dy = c.gradOutputs[0];  // (N, T, D)
    const int64_t n = dy.shape[0], t = dy.shape[1], d = dy.shape[2];
    const Dropout drop = Dropout::make(c.training, getFloat(c.params, "dropout"), c.seed, 0);
    const float* g = dy.data;  // (N, T, D) gradient of x + pe
    if (drop.enabled) {
        float* masked = attn::scratch(attn::Scratch::Positional, dy.numel());
        std::copy(dy.data, dy.data + dy.numel(), masked);
        drop.apply(masked, dy.numel());
        g = masked;
    }
    const int64_t per = t * d;
    if (c.gradInputs[0].data) {
        float* dx = c.gradInputs[0].data;
        cpu::parallelFor(n * per, 16384, [&](int64_t k0, int64_t k1) {
            for (int64_t k = k0; k < k1; ++k) dx[k] += g[k];
        });
    }
    if (!c.gradWeights.empty() && c.gradWeights[0].data) {
        float* dw = c.gradWeights[0].data;  // (max_len, D): only the first T rows are used
        // Column ranges per thread, each summed over the batch in order.
        cpu::parallelFor(per, 1024, [&](int64_t k0, int64_t k1) {
            for (int64_t b = 0; b < n; ++b) {
                for (int64_t k = k0; k < k1; ++k) dw[k] += g[b * per + k];
            }
        });
    }
}

// ---- multi_head_attention: PyTorch nn.MultiheadAttention(batch_first=True) ----

std::vector<WeightSpec> mhaWeights(int64_t e, bool bias, const std::string& prefix) {
    std::vector<WeightSpec> w;
    // xavier_uniform_ on [3E, E]: fan_in E, fan_out 3E.
    w.push_back({prefix + "in_proj_weight", {3 * e, e}, Init::uniform(std::sqrt(6.0 / (4.0 * e)))});
    if (bias) w.push_back({prefix + "in_proj_bias", {3 * e}, Init::zeros()});
    w.push_back({prefix + "out_proj.weight", {e, e}, Init::uniform(1.0 / std::sqrt(double(e)))});
    if (bias) w.push_back({prefix + "out_proj.bias", {e}, Init::zeros()});
    return w;
}

std::vector<AuxSpec> mhaAux(int64_t t, int64_t s, int64_t e, int64_t h) {
    return {{"attention", Shape::batched({h, t, s})},  // (N, H, T, S)
            {"q", Shape::batched({t, e})},             // (N, T, E), head h in columns h*Dh..
            {"k", Shape::batched({s, e})},             // (N, S, E)
            {"v", Shape::batched({s, e})},             // (N, S, E)
            {"context", Shape::batched({t, e})}};      // (N, T, E)
}

int64_t mhaFlops(int64_t t, int64_t s, int64_t e, int64_t h) {
    const int64_t proj = 2 * t * e * e + 2 * s * e * 2 * e;  // q, then k and v
    const int64_t scores = 2 * t * s * e, softmax = 5 * h * t * s, mix = 2 * t * s * e;
    return proj + scores + softmax + mix + 2 * t * e * e;
}

Result<LayerInfo> mhaInfer(const LayerContext& c) {
    if (auto ok = expectFloat(c, 0); !ok) return ok.error();
    const Shape& q = c.shape(0);
    if (!q.isBatched() || q.rank() != 3) {
        return fail("expects a query sequence (N, T, E) but " + c.gives(0));
    }
    const int64_t t = q[1], e = q[2], h = getInt(c.params, "num_heads");
    if (e % h != 0) {
        return fail("expects the embed size to be divisible by num_heads = " + num(h) + " but " +
                    c.gives(0) + "; choose num_heads dividing " + num(e));
    }
    int64_t s = t;
    if (c.connected(1)) {
        if (auto ok = expectFloat(c, 1); !ok) return ok.error();
        const Shape& m = c.shape(1);
        if (!m.isBatched() || m.rank() != 3) {
            return fail("expects a memory sequence (N, S, E) but " + c.gives(1));
        }
        if (m[2] != e) {
            return fail("expects memory with the query's embed size " + num(e) +
                        " in its last dimension but " + c.gives(1));
        }
        s = m[1];
    }
    const bool bias = getBool(c.params, "bias");
    LayerInfo info;
    info.outputs.push_back({q, DType::Float32});
    info.weights = mhaWeights(e, bias, "");
    info.aux = mhaAux(t, s, e, h);
    info.flops = mhaFlops(t, s, e, h);
    return info;
}

attn::MhaWeights mhaWeightViews(const std::vector<TensorView>& w, bool bias, size_t first) {
    attn::MhaWeights m;
    m.inW = w[first].data;
    m.inB = bias ? w[first + 1].data : nullptr;
    m.outW = w[first + (bias ? 2 : 1)].data;
    m.outB = bias ? w[first + 3].data : nullptr;
    return m;
}

attn::MhaGrads mhaGradViews(const std::vector<TensorView>& g, bool bias, size_t first) {
    attn::MhaGrads m;
    m.inW = g[first].data;
    m.inB = bias ? g[first + 1].data : nullptr;
    m.outW = g[first + (bias ? 2 : 1)].data;
    m.outB = bias ? g[first + 3].data : nullptr;
    return m;
}

attn::MhaSaved mhaSavedViews(const std::vector<TensorView>& aux, size_t first) {
    return {aux[first].data, aux[first + 1].data, aux[first + 2].data, aux[first + 3].data,
            aux[first + 4].data};
}

attn::MhaShape mhaShapeOf(const OpContext& c, int64_t heads) {
    const TensorView& q = c.inputs[0];  // (N, T, E)
    const bool cross = c.inputs.size() > 1 && c.inputs[1].data;
    return {q.shape[0], q.shape[1], cross ? c.inputs[1].shape[1] : q.shape[1], q.shape[2], heads};
}

void multi_head_attention_fwd(const OpContext& c) {
    const attn::MhaShape sh = mhaShapeOf(c, getInt(c.params, "num_heads"));
    const bool bias = getBool(c.params, "bias");
    const float* memory = c.inputs.size() > 1 ? c.inputs[1].data : nullptr;  // (N, S, E) or null
    attn::mhaFwd(sh, c.inputs[0].data, memory, mhaWeightViews(c.weights, bias, 0),
                 getBool(c.params, "causal"),
                 Dropout::make(c.training, getFloat(c.params, "dropout"), c.seed, 0),
                 mhaSavedViews(c.aux, 0), c.outputs[0].data);
}

void multi_head_attention_bwd(const OpContext& c) {
    const attn::MhaShape sh = mhaShapeOf(c, getInt(c.params, "num_heads"));
    const bool bias = getBool(c.params, "bias");
    const float* memory = c.inputs.size() > 1 ? c.inputs[1].data : nullptr;
    float* dmemory = memory && c.gradInputs.size() > 1 ? c.gradInputs[1].data : nullptr;
    attn::mhaBwd(sh, c.inputs[0].data, memory, mhaWeightViews(c.weights, bias, 0),
                 Dropout::make(c.training, getFloat(c.params, "dropout"), c.seed, 0),
                 mhaSavedViews(c.aux, 0), c.gradOutputs[0].data, c.gradInputs[0].data, dmemory,
                 mhaGradViews(c.gradWeights, bias, 0));
}

// ---- transformer_encoder_layer: PyTorch nn.TransformerEncoderLayer(batch_first=True) ----
//
// post-norm (norm_first=false):            pre-norm (norm_first=true):
//   r1 = x + drop1(mha(x))                   a  = norm1(x);  r1 = x + drop1(mha(a))
//   f  = norm1(r1)                           f  = norm2(r1)
//   r2 = f + drop2(ffn(f))                   out = r1 + drop2(ffn(f))
//   out = norm2(r2)
// ffn(f) = linear2(drop(act(linear1(f)))). Dropout sites: 0 attention probabilities, 1 drop1,
// 2 the feed-forward hidden layer, 3 drop2.

enum BlockWeight : size_t {
    kInProjW, kInProjB, kOutProjW, kOutProjB, kLinear1W, kLinear1B, kLinear2W, kLinear2B,
    kNorm1W, kNorm1B, kNorm2W, kNorm2B
};

// The first five aux tensors are the attention core's (mhaAux order). kModeInput is what the
// mode needs beyond the shared ones: pre-norm saves norm1's output (the attention input),
// post-norm saves r2 (norm2's input).
enum BlockAux : size_t {
    kAttention, kQ, kK, kV, kContext, kNorm1Mean, kNorm1Rstd, kNorm2Mean, kNorm2Rstd,
    kResidual1, kFfnIn, kFfnPre, kFfnAct, kModeInput
};

Result<LayerInfo> blockInfer(const LayerContext& c) {
    if (auto ok = expectFloat(c, 0); !ok) return ok.error();
    const Shape& x = c.shape(0);
    if (!x.isBatched() || x.rank() != 3) {
        return fail("expects a sequence (N, T, d_model) but " + c.gives(0));
    }
    const int64_t e = getInt(c.params, "d_model"), h = getInt(c.params, "nhead");
    const int64_t f = getInt(c.params, "dim_feedforward"), t = x[1];
    if (x[2] != e) {
        return fail("expects d_model = " + num(e) + " features in the last dimension but " +
                    c.gives(0) + "; set d_model to " + num(x[2]));
    }
    if (e % h != 0) {
        return fail("expects d_model = " + num(e) + " to be divisible by nhead = " + num(h) +
                    "; choose nhead dividing " + num(e));
    }
    LayerInfo info;
    info.outputs.push_back({x, DType::Float32});
    info.weights = mhaWeights(e, true, "self_attn.");
    const double b1 = 1.0 / std::sqrt(double(e)), b2 = 1.0 / std::sqrt(double(f));
    info.weights.push_back({"linear1.weight", {f, e}, Init::uniform(b1)});
    info.weights.push_back({"linear1.bias", {f}, Init::uniform(b1)});
    info.weights.push_back({"linear2.weight", {e, f}, Init::uniform(b2)});
    info.weights.push_back({"linear2.bias", {e}, Init::uniform(b2)});
    info.weights.push_back({"norm1.weight", {e}, Init::ones()});
    info.weights.push_back({"norm1.bias", {e}, Init::zeros()});
    info.weights.push_back({"norm2.weight", {e}, Init::ones()});
    info.weights.push_back({"norm2.bias", {e}, Init::zeros()});
    info.aux = mhaAux(t, t, e, h);
    const Shape rows = Shape::batched({t});         // (N, T)
    const Shape rowsE = Shape::batched({t, e});     // (N, T, E)
    const Shape rowsF = Shape::batched({t, f});     // (N, T, F)
    info.aux.push_back({"norm1_mean", rows});
    info.aux.push_back({"norm1_rstd", rows});
    info.aux.push_back({"norm2_mean", rows});
    info.aux.push_back({"norm2_rstd", rows});
    info.aux.push_back({"residual1", rowsE});
    info.aux.push_back({"ffn_in", rowsE});
    info.aux.push_back({"ffn_pre", rowsF});
    info.aux.push_back({"ffn_act", rowsF});
    info.aux.push_back({getBool(c.params, "norm_first") ? "attn_in" : "residual2", rowsE});
    info.flops = mhaFlops(t, t, e, h) + 2 * 7 * t * e + 4 * t * e * f + 2 * t * f + 2 * t * e;
    return info;
}

struct BlockConfig {
    int64_t n, t, e, h, f;
    bool gelu, normFirst, causal;
    float eps;
    Dropout attn, drop1, hidden, drop2;
};

BlockConfig blockConfig(const OpContext& c) {
    const TensorView& x = c.inputs[0];  // (N, T, E)
    const double p = getFloat(c.params, "dropout");
    return {x.shape[0], x.shape[1], x.shape[2], getInt(c.params, "nhead"),
            getInt(c.params, "dim_feedforward"), getString(c.params, "activation") == "gelu",
            getBool(c.params, "norm_first"), getBool(c.params, "causal"),
            static_cast<float>(getFloat(c.params, "layer_norm_eps")),
            Dropout::make(c.training, p, c.seed, 0), Dropout::make(c.training, p, c.seed, 1),
            Dropout::make(c.training, p, c.seed, 2), Dropout::make(c.training, p, c.seed, 3)};
}

// relu, or the exact (erf) gelu that F.gelu computes by default.
float activation(float v, bool gelu) {
    if (!gelu) return v > 0 ? v : 0.0f;
    return 0.5f * v * (1.0f + std::erf(v * kInvSqrt2));
}

float activationGrad(float v, bool gelu) {
    if (!gelu) return v > 0 ? 1.0f : 0.0f;
    const float cdf = 0.5f * (1.0f + std::erf(v * kInvSqrt2));
    const float pdf = std::exp(-0.5f * v * v) * kInvSqrt2Pi;
    return cdf + v * pdf;
}

// y[i] += x[i] over ranges of the pool's threads.
void addInto(float* y, const float* x, int64_t count) {
    cpu::parallelFor(count, 16384, [=](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) y[i] += x[i];
    });
}

// ffn_out (rows, E) = residual + drop2(linear2(drop(act(linear1(ffn_in))))), saving pre- and
// post-activation.
void blockFfnFwd(const BlockConfig& k, const OpContext& c, const float* residual, float* ffnOut) {
    const int64_t rows = k.n * k.t;
    attn::linearRowsFwd(c.aux[kFfnIn].data, rows, k.e, k.f, c.weights[kLinear1W].data,
                        c.weights[kLinear1B].data, c.aux[kFfnPre].data);
    const float* pre = c.aux[kFfnPre].data;  // (rows, F)
    float* act = c.aux[kFfnAct].data;        // (rows, F)
    cpu::parallelFor(rows, 16, [&](int64_t r0, int64_t r1) {
        if (k.gelu) {
            for (int64_t i = r0 * k.f; i < r1 * k.f; ++i) act[i] = activation(pre[i], true);
        } else {
            for (int64_t i = r0 * k.f; i < r1 * k.f; ++i) act[i] = pre[i] > 0 ? pre[i] : 0.0f;
        }
    });
    k.hidden.apply(act, rows * k.f);
    if (!k.drop2.enabled) {  // the residual rides in linear2's product
        attn::linearRowsFwd(act, rows, k.f, k.e, c.weights[kLinear2W].data,
                            c.weights[kLinear2B].data, ffnOut, residual);
        return;
    }
    attn::linearRowsFwd(act, rows, k.f, k.e, c.weights[kLinear2W].data,
                        c.weights[kLinear2B].data, ffnOut);
    k.drop2.apply(ffnOut, rows * k.e);
    addInto(ffnOut, residual, rows * k.e);
}

// dffnIn (rows, E) += (or = when overwrite) the gradient through the feed-forward branch of
// dffnOut (rows, E).
void blockFfnBwd(const BlockConfig& k, const OpContext& c, const float* dffnOut, float* dffnIn,
                 bool overwrite) {
    const int64_t rows = k.n * k.t;
    const float* dout = dffnOut;  // (rows, E) gradient of linear2
    if (k.drop2.enabled) {
        float* masked = attn::scratch(attn::Scratch::FfnOut, rows * k.e);
        std::copy(dffnOut, dffnOut + rows * k.e, masked);
        k.drop2.apply(masked, rows * k.e);
        dout = masked;
    }
    float* da = attn::scratch(attn::Scratch::FfnAct, rows * k.f);  // (rows, F)
    attn::linearRowsBwd(c.aux[kFfnAct].data, dout, rows, k.f, k.e, c.weights[kLinear2W].data,
                        da, c.gradWeights[kLinear2W].data, c.gradWeights[kLinear2B].data, true);
    k.hidden.apply(da, rows * k.f);
    // The activation's derivative, and linear1's bias gradient (the column sums of the result)
    // in the same pass while the rows are in cache. Chunks of a fixed number of rows sum into
    // their own partials, added in chunk order: the same sum on any thread count.
    const float* pre = c.aux[kFfnPre].data;  // (rows, F)
    const int64_t chunkRows = 32, chunks = (rows + chunkRows - 1) / chunkRows;
    float* db = c.gradWeights[kLinear1B].data;  // (F) or null
    float* partials = db ? attn::scratch(attn::Scratch::FfnBias, chunks * k.f) : nullptr;
    cpu::parallelFor(chunks, 1, [&](int64_t c0, int64_t c1) {
        for (int64_t ch = c0; ch < c1; ++ch) {
            const int64_t i0 = ch * chunkRows * k.f;
            const int64_t i1 = std::min(rows, (ch + 1) * chunkRows) * k.f;
            if (k.gelu) {
                for (int64_t i = i0; i < i1; ++i) da[i] *= activationGrad(pre[i], true);
            } else {
                for (int64_t i = i0; i < i1; ++i) da[i] = pre[i] > 0 ? da[i] : 0.0f;
            }
            if (!partials) continue;
            float* part = partials + ch * k.f;  // (F)
            std::fill(part, part + k.f, 0.0f);
            for (int64_t i = i0; i < i1; i += k.f) {
                for (int64_t j = 0; j < k.f; ++j) part[j] += da[i + j];
            }
        }
    });
    if (db) {
        for (int64_t ch = 0; ch < chunks; ++ch) {
            for (int64_t j = 0; j < k.f; ++j) db[j] += partials[ch * k.f + j];
        }
    }
    attn::linearRowsBwd(c.aux[kFfnIn].data, da, rows, k.e, k.f, c.weights[kLinear1W].data,
                        dffnIn, c.gradWeights[kLinear1W].data, nullptr, overwrite);
}

void transformer_encoder_layer_fwd(const OpContext& c) {
    const BlockConfig k = blockConfig(c);
    const int64_t rows = k.n * k.t, count = rows * k.e;
    const float* x = c.inputs[0].data;       // (N, T, E)
    float* out = c.outputs[0].data;          // (N, T, E)
    float* r1 = c.aux[kResidual1].data;      // (N, T, E)
    float* ffnIn = c.aux[kFfnIn].data;       // (N, T, E)
    const attn::MhaShape sh{k.n, k.t, k.t, k.e, k.h};
    const attn::MhaWeights mw = mhaWeightViews(c.weights, true, kInProjW);
    const attn::MhaSaved saved = mhaSavedViews(c.aux, kAttention);
    const float* attnIn = x;
    if (k.normFirst) {
        float* a = c.aux[kModeInput].data;  // (N, T, E) norm1(x)
        attn::layerNormRowsFwd(x, rows, k.e, k.eps, c.weights[kNorm1W].data,
                               c.weights[kNorm1B].data, a, c.aux[kNorm1Mean].data,
                               c.aux[kNorm1Rstd].data);
        attnIn = a;
    }
    if (!k.drop1.enabled) {  // the residual rides in out_proj's product
        attn::mhaFwd(sh, attnIn, nullptr, mw, k.causal, k.attn, saved, r1, x);
    } else {
        attn::mhaFwd(sh, attnIn, nullptr, mw, k.causal, k.attn, saved, r1);
        k.drop1.apply(r1, count);
        addInto(r1, x, count);
    }
    // Both modes normalise r1 before the feed-forward branch, with norm2 in pre-norm.
    const size_t g = k.normFirst ? kNorm2W : kNorm1W;
    attn::layerNormRowsFwd(r1, rows, k.e, k.eps, c.weights[g].data, c.weights[g + 1].data, ffnIn,
                           c.aux[k.normFirst ? kNorm2Mean : kNorm1Mean].data,
                           c.aux[k.normFirst ? kNorm2Rstd : kNorm1Rstd].data);
    if (k.normFirst) {
        blockFfnFwd(k, c, r1, out);
        return;
    }
    float* r2 = c.aux[kModeInput].data;  // (N, T, E)
    blockFfnFwd(k, c, ffnIn, r2);
    attn::layerNormRowsFwd(r2, rows, k.e, k.eps, c.weights[kNorm2W].data,
                           c.weights[kNorm2B].data, out, c.aux[kNorm2Mean].data,
                           c.aux[kNorm2Rstd].data);
}

void transformer_encoder_layer_bwd(const OpContext& c) {
    const BlockConfig k = blockConfig(c);
    const int64_t rows = k.n * k.t, count = rows * k.e;
    const float* x = c.inputs[0].data;      // (N, T, E)
    const float* dout = c.gradOutputs[0].data;  // (N, T, E)
    float* dx = c.gradInputs[0].data;       // (N, T, E), may be null
    const float* r1 = c.aux[kResidual1].data;
    const attn::MhaShape sh{k.n, k.t, k.t, k.e, k.h};
    const attn::MhaWeights mw = mhaWeightViews(c.weights, true, kInProjW);
    const attn::MhaGrads mg = mhaGradViews(c.gradWeights, true, kInProjW);
    const attn::MhaSaved saved = mhaSavedViews(c.aux, kAttention);
    auto grad = [&](size_t w) { return c.gradWeights[w].data; };

    // Work buffers that persist across steps (attn::scratch); each is filled before use.
    float* dr1 = attn::scratch(attn::Scratch::BlockA, count);     // (N, T, E)
    float* dffnIn = attn::scratch(attn::Scratch::BlockB, count);  // (N, T, E)
    if (k.normFirst) {
        std::copy(dout, dout + count, dr1);
        blockFfnBwd(k, c, dout, dffnIn, true);
        attn::layerNormRowsBwd(r1, dffnIn, rows, k.e, c.weights[kNorm2W].data,
                               c.aux[kNorm2Mean].data, c.aux[kNorm2Rstd].data, dr1,
                               grad(kNorm2W), grad(kNorm2B));
    } else {
        float* dr2 = attn::scratch(attn::Scratch::BlockC, count);  // (N, T, E)
        std::fill(dr2, dr2 + count, 0.0f);
        attn::layerNormRowsBwd(c.aux[kModeInput].data, dout, rows, k.e, c.weights[kNorm2W].data,
                               c.aux[kNorm2Mean].data, c.aux[kNorm2Rstd].data, dr2,
                               grad(kNorm2W), grad(kNorm2B));
        std::copy(dr2, dr2 + count, dffnIn);
        blockFfnBwd(k, c, dr2, dffnIn, false);
        std::fill(dr1, dr1 + count, 0.0f);
        attn::layerNormRowsBwd(r1, dffnIn, rows, k.e, c.weights[kNorm1W].data,
                               c.aux[kNorm1Mean].data, c.aux[kNorm1Rstd].data, dr1,
                               grad(kNorm1W), grad(kNorm1B));
    }
    // r1 = x + drop1(mha(attnIn))
    if (dx) {
        addInto(dx, dr1, count);
    }
    k.drop1.apply(dr1, count);
    if (!k.normFirst) {
        attn::mhaBwd(sh, x, nullptr, mw, k.attn, saved, dr1, dx, nullptr, mg);
        return;
    }
    float* da = attn::scratch(attn::Scratch::BlockC, count);  // (N, T, E) gradient of norm1(x)
    attn::mhaBwd(sh, c.aux[kModeInput].data, nullptr, mw, k.attn, saved, dr1, da, nullptr, mg,
                 true);
    attn::layerNormRowsBwd(x, da, rows, k.e, c.weights[kNorm1W].data, c.aux[kNorm1Mean].data,
                           c.aux[kNorm1Rstd].data, dx, grad(kNorm1W), grad(kNorm1B));
}

}  // namespace

void registerAttentionLayers(LayerRegistry& r) {
    r.add({
        .id = "layer_norm",
        .label = "Layer Norm",
        .category = "Normalization",
        .doc = "Normalises each position over its last dimension, then scales and shifts.",
        .inputs = {{"in", "(N, ..., D)"}},
        .outputs = {{"out", "same shape"}},
        .params = {floatParam("eps", 1e-5, 1e-12, 1.0, "added to the variance for stability"),
                   boolParam("elementwise_affine", true, "learn a per-feature scale and shift")},
        .infer = layerNormInfer,
        .forward = layer_norm_fwd,
        .backward = layer_norm_bwd,
    });
    r.add({
        .id = "positional_encoding",
        .label = "Positional Encoding",
        .category = "Attention",
        .doc = "Adds a position signal to each step of a sequence: x + pe[:T], then dropout.",
        .inputs = {{"in", "(N, T, D)"}},
        .outputs = {{"out", "(N, T, D)"}},
        .params = {enumParam("kind", "sinusoidal", {"sinusoidal", "learned"},
                             "fixed sine/cosine table or a learned table"),
                   intParam("max_len", 512, 1, 1 << 20, "longest sequence the table covers"),
                   floatParam("dropout", 0.0, 0.0, 0.99, "dropout probability after the sum")},
        .infer = positionalInfer,
        .forward = positional_encoding_fwd,
        .backward = positional_encoding_bwd,
    });
    r.add({
        .id = "multi_head_attention",
        .label = "Multi-Head Attention",
        .category = "Attention",
        .doc = "Scaled dot-product attention over several heads; self-attention unless a memory "
               "is connected.",
        .inputs = {{"query", "(N, T, E)"},
                   {"memory", "(N, S, E); unconnected means self-attention", true}},
        .outputs = {{"out", "(N, T, E)"}},
        .params = {intParam("num_heads", 4, 1, 1024, "parallel heads; must divide E"),
                   boolParam("causal", false, "each position attends only to earlier ones"),
                   floatParam("dropout", 0.0, 0.0, 0.99, "dropout on the attention weights"),
                   boolParam("bias", true, "learn biases in the projections")},
        .infer = mhaInfer,
        .forward = multi_head_attention_fwd,
        .backward = multi_head_attention_bwd,
    });
    r.add({
        .id = "transformer_encoder_layer",
        .label = "Transformer Encoder Layer",
        .category = "Attention",
        .doc = "Self-attention and a feed-forward network, each with a residual connection and "
               "layer norm.",
        .inputs = {{"in", "(N, T, d_model)"}},
        .outputs = {{"out", "(N, T, d_model)"}},
        .params = {intParam("d_model", 64, 1, 65536, "features per position; equals the input's"),
                   intParam("nhead", 4, 1, 1024, "attention heads; must divide d_model"),
                   intParam("dim_feedforward", 2048, 1, 1 << 20, "hidden size of the FFN"),
                   floatParam("dropout", 0.1, 0.0, 0.99, "dropout probability"),
                   enumParam("activation", "relu", {"relu", "gelu"}, "FFN activation"),
                   boolParam("norm_first", false, "layer norm before each sub-block (pre-norm)"),
                   boolParam("causal", false, "each position attends only to earlier ones"),
                   floatParam("layer_norm_eps", 1e-5, 1e-12, 1.0, "layer norm epsilon")},
        .infer = blockInfer,
        .forward = transformer_encoder_layer_fwd,
        .backward = transformer_encoder_layer_bwd,
    });
}

}  // namespace strata

// Vulkan kernels of the recurrent family (core/layers/recurrent.cpp): embedding, rnn, lstm, gru,
// with the CPU's aux layout (per layer the hidden sequence, then per direction the gates and the
// lstm cell states / gru W_hn h + b_hn).
//
// A recurrent layer direction runs as: one GEMM for the input projections of all steps
// (x W_ihᵀ + b_ih), then one fused kernel per step that forms h_{t-1} W_hhᵀ + b_hh itself and
// applies the gates (lavapipe pays ~60 µs a dispatch, more than the product costs at these
// sizes). The state h_t also goes to a time-major scratch buffer (T, N, H) whose packed rows the
// next step reads. Backward walks the steps in reverse with one kernel per step that forms
// dLoss/dh_t = dq_{t+1} W_hh + dy_t and the gate gradients; the weight, bias and input
// gradients are then one GEMM each over all steps. For rnn and lstm the gradient dq of
// W_hh h_{t-1} + b_hh is the gate gradient dxp itself: it is kept once, batch-major (the
// largest scratch of the layer), and h_{t-1} is saved batch-major beside it so that dW_hh is one
// GEMM over the same rows; gru's dq differs (r scales the n gate) and is kept apart.
//
// Tensors larger than one binding: the step kernels bind each step's rows (and split the batch
// when needed, gpu/ops/recurrent.cpp), the GEMMs over all steps split along rows or along their
// long reduction (gpu/ops/gemm.cpp); only a weight matrix is bound whole, so a layer whose
// weight exceeds a binding is refused up front with the weight's PyTorch name.
#include <string>

#include "gpu/layer_kernels.h"
#include "gpu/ops/embedding.h"
#include "gpu/ops/gemm.h"
#include "gpu/ops/recurrent.h"

namespace strata::gpu {

namespace {

using ops::RnnCell;

// ---- embedding ----

Result<void> embedding_fwd(const GpuOpContext& c) {
    const GpuTensor& w = c.weights[0];  // (num, dim)
    return ops::recordEmbeddingFwd(c.rec, uint32_t(w.shape[0]), uint32_t(w.shape[1]),
                                   c.inputs[0].range, w.range, c.outputs[0].range,
                                   c.label("embedding_fwd"));
}

Result<void> embedding_bwd(const GpuOpContext& c) {
    if (c.gradWeights.empty() || !c.gradWeights[0].present()) return {};
    const GpuTensor& dw = c.gradWeights[0];  // (num, dim)
    const GpuTensor& ids = c.inputs[0];      // (N, ...)
    auto links = c.scratch(2 * uint64_t(ids.numel()), "embedding gradient links");
    if (!links) return links.error();
    return ops::recordEmbeddingBwd(c.rec, uint32_t(dw.shape[0]), uint32_t(dw.shape[1]),
                                   ids.range, c.gradOutputs[0].range, dw.range, *links,
                                   c.label("embedding_bwd"));
}

// ---- rnn, lstm, gru ----

// Sizes and tensor indices of one recurrent node; mirrors RecurrentDims in the CPU file.
struct Dims {
    RnnCell cell = RnnCell::Rnn;
    uint32_t batch = 0, steps = 0, features = 0, hidden = 0, layers = 1, dirs = 1, gates = 1;
    bool bias = true, relu = false, lastOnly = false;

    uint32_t inputSize(uint32_t k) const { return k == 0 ? features : hidden * dirs; }
    uint32_t gateWidth() const { return gates * hidden; }
    size_t weightIndex(uint32_t k, uint32_t dir) const {
        return (k * dirs + dir) * (bias ? 4 : 2);  // weight_ih, weight_hh[, bias_ih, bias_hh]
    }
    size_t auxPerLayer() const { return 1 + dirs * (cell == RnnCell::Rnn ? 0 : 2); }
    size_t hiddenAux(uint32_t k) const { return k * auxPerLayer(); }
    size_t gateAux(uint32_t k, uint32_t dir) const { return k * auxPerLayer() + 1 + dir * 2; }
    // The reverse direction walks the sequence backwards.
    uint32_t timeAt(uint32_t dir, uint32_t s) const { return dir == 0 ? s : steps - 1 - s; }
};

Dims readDims(RnnCell cell, const GpuOpContext& c) {
    Dims d;
    d.cell = cell;
    d.hidden = uint32_t(getInt(c.params, "hidden_size"));
    d.layers = uint32_t(getInt(c.params, "num_layers"));
    d.dirs = getBool(c.params, "bidirectional") ? 2 : 1;
    d.gates = ops::gateCount(cell);
    d.bias = getBool(c.params, "bias");
    d.relu = cell == RnnCell::Rnn && getString(c.params, "nonlinearity") == "relu";
    d.lastOnly = getString(c.params, "output") == "last";
    const Shape& x = c.inputs[0].shape;  // (N, T, F)
    d.batch = uint32_t(x[0]);
    d.steps = uint32_t(x[1]);
    d.features = uint32_t(x[2]);
    return d;
}

ops::RnnStep stepOf(const Dims& d, uint32_t dir, uint32_t s) {
    return {.cell = d.cell,
            .batch = d.batch,
            .steps = d.steps,
            .hidden = d.hidden,
            .seqWidth = d.hidden * d.dirs,
            .dirOffset = dir * d.hidden,
            .t = d.timeAt(dir, s),
            .tPrev = s > 0 ? int32_t(d.timeAt(dir, s - 1)) : -1,
            .tNext = s + 1 < d.steps ? int32_t(d.timeAt(dir, s + 1)) : -1,
            .relu = d.relu};
}

const char* cellName(RnnCell cell) {
    return cell == RnnCell::Rnn ? "rnn" : cell == RnnCell::Lstm ? "lstm" : "gru";
}

// Sequences split across bindings (recurrent.cpp binds each step's rows, the GEMMs split along
// rows or the reduction), but a weight matrix is bound whole by the products that read it and by
// those that form its gradient: refuse a layer whose weight (or its gradient, in `grads`) cannot
// be bound, naming the weight as PyTorch does.
Result<void> checkWeightsBind(const GpuOpContext& c, const Dims& d,
                              const std::vector<GpuTensor>& tensors) {
    const Device& dev = c.rec.device();
    const bool grads = &tensors == &c.gradWeights;
    for (uint32_t k = 0; k < d.layers; ++k) {
        for (uint32_t dir = 0; dir < d.dirs; ++dir) {
            for (uint32_t which = 0; which < 2; ++which) {
                const size_t i = d.weightIndex(k, dir) + which;
                if (i >= tensors.size() || tensors[i].range.empty()) continue;
                const BufferRange& r = tensors[i].range;
                if (r.offset % dev.bindingAlignment() + r.size <= dev.maxBindingBytes()) continue;
                const uint32_t cols = which == 0 ? d.inputSize(k) : d.hidden;
                const std::string name = std::string(which == 0 ? "weight_ih_l" : "weight_hh_l") +
                                         std::to_string(k) + (dir == 1 ? "_reverse" : "");
                return fail(std::string(cellName(d.cell)) + " '" + c.name + "': " +
                            (grads ? "the gradient of " : "") + name + " [" +
                            std::to_string(d.gateWidth()) + ", " + std::to_string(cols) +
                            "] spans " + byteText(r.size) +
                            ", more than the device binds at once (" +
                            byteText(dev.maxBindingBytes()) + "), and a weight is not split; "
                            "a smaller hidden_size" + (which == 0 ? " or input size" : "") +
                            " fits.");
            }
        }
    }
    return {};
}

Result<BufferRange> scratchOf(const GpuOpContext& c, uint64_t floats, const std::string& what) {
    return c.scratch(floats, c.name + " " + what);
}

Result<void> recurrent_fwd(RnnCell cell, const GpuOpContext& c) {
    const Dims d = readDims(cell, c);
    if (auto r = checkWeightsBind(c, d, c.weights); !r) return r;
    const uint32_t N = d.batch, T = d.steps, H = d.hidden, GH = d.gateWidth();
    const uint64_t NH = uint64_t(N) * H;
    auto pre = scratchOf(c, uint64_t(N) * T * GH, "input projections");  // (N, T, GH)
    if (!pre) return pre.error();
    auto hs = scratchOf(c, T * NH, "states");  // (T, N, H) h_t at step s, packed rows
    if (!hs) return hs.error();
    for (uint32_t k = 0; k < d.layers; ++k) {
        const BufferRange in = k == 0 ? c.inputs[0].range : c.aux[d.hiddenAux(k - 1)].range;
        const bool top = k + 1 == d.layers;
        for (uint32_t dir = 0; dir < d.dirs; ++dir) {
            const size_t wi = d.weightIndex(k, dir);
            ops::GemmArgs proj{.transB = true, .M = N * T, .N = GH, .K = d.inputSize(k),
                               .a = in, .b = c.weights[wi].range, .c = *pre};
            if (d.bias) proj.bias = c.weights[wi + 2].range;
            if (auto r = ops::recordGemm(c.rec, proj); !r) return r;
            ops::RnnStepFwdTensors x{.pre = *pre,
                                     .whh = c.weights[wi + 1].range,
                                     .seq = c.aux[d.hiddenAux(k)].range};
            if (d.bias) x.bhh = c.weights[wi + 3].range;
            if (cell != RnnCell::Rnn) {
                x.gates = c.aux[d.gateAux(k, dir)].range;
                x.extra = c.aux[d.gateAux(k, dir) + 1].range;
            }
            for (uint32_t s = 0; s < T; ++s) {
                x.hsPrev = s > 0 ? hs->floatsAt((s - 1) * NH, NH) : BufferRange{};
                x.hsNext = hs->floatsAt(s * NH, NH);
                x.y = {};
                x.output = ops::RnnOutput::None;
                if (top && (!d.lastOnly || s + 1 == T)) {
                    x.y = c.outputs[0].range;
                    x.output = d.lastOnly ? ops::RnnOutput::Last : ops::RnnOutput::Sequence;
                }
                if (auto r = ops::recordRnnStepFwd(c.rec, stepOf(d, dir, s), x,
                                                   c.label("step " + std::to_string(s)));
                    !r) {
                    return r;
                }
            }
        }
    }
    return {};
}

const GpuTensor* gradWeight(const GpuOpContext& c, size_t i) {
    return i < c.gradWeights.size() && c.gradWeights[i].present() ? &c.gradWeights[i] : nullptr;
}

// b_ih += 1ᵀ dxp and b_hh += 1ᵀ dq. rnn/lstm (dq == dxp): when the two gradients lie next to
// each other (the arena keeps a layer's tensors in order), one GEMM with two rows of ones
// forms both, (2, GH) = onesᵀ (2, NT) dxp (NT, GH): lavapipe pays a dispatch (~60 µs) for what
// is little arithmetic here. gru: likewise one batched GEMM over [dxp; dq] when dq follows
// dxp and both fit one binding. Else one GEMM each, which split their long reduction across
// bindings.
Result<void> biasGradients(const GpuOpContext& c, size_t wi, const BufferRange& ones,
                           const BufferRange& dxp, const BufferRange& dq, uint32_t NT,
                           uint32_t GH) {
    const GpuTensor* gi = gradWeight(c, wi + 2);  // (GH)
    const GpuTensor* gh = gradWeight(c, wi + 3);  // (GH)
    const uint64_t bytes = uint64_t(GH) * 4;
    const uint64_t rows = uint64_t(NT) * GH;  // floats of dxp and of dq
    const bool adjacent = gi && gh && gi->range.buffer == gh->range.buffer &&
                          gh->range.offset == gi->range.offset + bytes;
    const BufferRange both = adjacent ? BufferRange{gi->range.buffer, gi->range.offset, 2 * bytes}
                                      : BufferRange{};
    if (adjacent && dq.empty()) {
        // ones as (NT, 2), transposed: the GEMM may split the reduction over NT.
        ops::GemmArgs a{.transA = true, .M = 2, .N = GH, .K = NT, .beta = 1.0f,
                        .a = ones.floatsAt(0, 2ull * NT), .b = dxp, .c = both};
        return ops::recordGemm(c.rec, a);
    }
    if (adjacent && dq.buffer == dxp.buffer && dq.offset == dxp.offset + rows * 4 &&
        dxp.offset % c.rec.device().bindingAlignment() + 2 * rows * 4 <=
            c.rec.device().maxBindingBytes()) {
        // Packed strides: ones (2, 1, NT), [dxp; dq] (2, NT, GH), [b_ih; b_hh] (2, 1, GH).
        ops::GemmArgs a{.M = 1, .N = GH, .K = NT, .batch = 2, .beta = 1.0f,
                        .a = ones.floatsAt(0, 2ull * NT),
                        .b = BufferRange{dxp.buffer, dxp.offset, 2 * rows * 4}, .c = both};
        return ops::recordGemm(c.rec, a);
    }
    for (const GpuTensor* g : {gi, gh}) {
        if (!g) continue;
        ops::GemmArgs a{.M = 1, .N = GH, .K = NT, .beta = 1.0f, .a = ones.floatsAt(0, NT),
                        .b = g == gi || dq.empty() ? dxp : dq, .c = g->range};
        if (auto r = ops::recordGemm(c.rec, a); !r) return r;
    }
    return {};
}

Result<void> recurrent_bwd(RnnCell cell, const GpuOpContext& c) {
    const Dims d = readDims(cell, c);
    if (auto r = checkWeightsBind(c, d, c.weights); !r) return r;
    if (auto r = checkWeightsBind(c, d, c.gradWeights); !r) return r;
    const uint32_t N = d.batch, T = d.steps, H = d.hidden, GH = d.gateWidth();
    const uint32_t HD = H * d.dirs, NT = N * T;
    const uint64_t NH = uint64_t(N) * H;
    const bool gru = cell == RnnCell::Gru;
    // dxp (N, T, GH), then for gru dq (T, N, GH) in the same piece, so that the two bias
    // gradients can be one GEMM.
    auto dxpq = scratchOf(c, (gru ? 2ull : 1ull) * NT * GH, "gate gradients");
    if (!dxpq) return dxpq.error();
    const BufferRange dxp = dxpq->floatsAt(0, uint64_t(NT) * GH);
    const BufferRange dq = gru ? dxpq->floatsAt(uint64_t(NT) * GH, uint64_t(NT) * GH)
                               : BufferRange{};
    // h_{t-1}: gru (T, N, H) like dq, rnn/lstm (N, T, H) like dxp.
    auto hprev = scratchOf(c, T * NH, "previous states");
    if (!hprev) return hprev.error();
    BufferRange dh;  // (T, N, H) gru: dLoss/dh_{t-1} not through W_hh, written at step s
    if (gru) {
        auto b = scratchOf(c, T * NH, "state gradients");
        if (!b) return b.error();
        dh = *b;
    }
    auto dc = scratchOf(c, NH, "cell state gradient");  // (N, H)
    if (!dc) return dc.error();
    BufferRange ones;  // (2, N*T) for the bias gradients' column sums
    if (d.bias) {
        auto o = scratchOf(c, 2ull * NT, "two rows of ones");
        if (!o) return o.error();
        ones = *o;
        if (auto r = c.rec.fill(ones, 0x3f800000u, c.label("ones")); !r) return r;
    }
    BufferRange below[2];  // (N, T, H*dirs) gradients of the layers' inputs, alternating
    for (uint32_t i = 0; i < 2 && i + 1 < d.layers; ++i) {
        auto b = scratchOf(c, uint64_t(NT) * HD, "layer input gradient");
        if (!b) return b.error();
        below[i] = *b;
    }

    BufferRange dSeq = c.gradOutputs[0].range;  // (N, T, H*dirs) or (N, H*dirs)
    bool lastOnly = d.lastOnly;
    for (uint32_t k = d.layers; k-- > 0;) {
        const BufferRange in = k == 0 ? c.inputs[0].range : c.aux[d.hiddenAux(k - 1)].range;
        const uint32_t inK = d.inputSize(k);
        BufferRange dIn;  // (N, T, in)
        // The first direction writes a lower layer's input gradient, later ones add to it.
        bool dInAdds = true;
        if (k == 0) {
            if (!c.gradInputs.empty() && c.gradInputs[0].present()) dIn = c.gradInputs[0].range;
        } else {
            dIn = below[(k - 1) % 2];
            dInAdds = false;
        }
        for (uint32_t dir = 0; dir < d.dirs; ++dir) {
            const size_t wi = d.weightIndex(k, dir);
            ops::RnnStepBwdTensors x{.whh = c.weights[wi + 1].range,
                                     .seq = c.aux[d.hiddenAux(k)].range,
                                     .dxp = dxp};
            if (cell != RnnCell::Rnn) {
                x.gates = c.aux[d.gateAux(k, dir)].range;
                x.extra = c.aux[d.gateAux(k, dir) + 1].range;
            }
            if (cell == RnnCell::Lstm) x.dc = *dc;
            for (uint32_t s = T; s-- > 0;) {
                // With output = last only the final state (the first step here) gets dy.
                x.dy = !lastOnly || s + 1 == T ? dSeq : BufferRange{};
                x.dyMode = lastOnly ? ops::RnnGradIn::Last : ops::RnnGradIn::Sequence;
                const bool hasNext = s + 1 < T;
                if (gru) {
                    x.dqNext = hasNext ? dq.floatsAt(uint64_t(s + 1) * N * GH, uint64_t(N) * GH)
                                       : BufferRange{};
                    x.dhNext = hasNext ? dh.floatsAt((s + 1) * NH, NH) : BufferRange{};
                    x.dhOut = dh.floatsAt(s * NH, NH);
                    x.dq = dq.floatsAt(uint64_t(s) * N * GH, uint64_t(N) * GH);
                    x.hPrev = hprev->floatsAt(s * NH, NH);
                } else {
                    x.hPrev = *hprev;
                }
                if (auto r = ops::recordRnnStepBwd(c.rec, stepOf(d, dir, s), x,
                                                   c.label("step " + std::to_string(s) + " bwd"));
                    !r) {
                    return r;
                }
            }
            // Over all steps at once: rows of dxp follow x (batch-major), rows of dq (gru) follow
            // hprev (step-major); for rnn/lstm dq is dxp and hprev is batch-major.
            if (const GpuTensor* g = gradWeight(c, wi)) {  // (GH, in) += dxpᵀ x
                ops::GemmArgs a{.transA = true, .M = GH, .N = inK, .K = NT, .beta = 1.0f,
                                .a = dxp, .b = in, .c = g->range};
                if (auto r = ops::recordGemm(c.rec, a); !r) return r;
            }
            if (const GpuTensor* g = gradWeight(c, wi + 1)) {  // (GH, H) += dqᵀ h_{t-1}
                ops::GemmArgs a{.transA = true, .M = GH, .N = H, .K = NT, .beta = 1.0f,
                                .a = gru ? dq : dxp, .b = *hprev, .c = g->range};
                if (auto r = ops::recordGemm(c.rec, a); !r) return r;
            }
            if (d.bias) {
                if (auto r = biasGradients(c, wi, ones, dxp, dq, NT, GH); !r) return r;
            }
            if (!dIn.empty()) {  // (N*T, in) += dxp W_ih
                ops::GemmArgs a{.M = NT, .N = inK, .K = GH, .beta = dInAdds ? 1.0f : 0.0f,
                                .a = dxp, .b = c.weights[wi].range, .c = dIn};
                if (auto r = ops::recordGemm(c.rec, a); !r) return r;
                dInAdds = true;
            }
        }
        dSeq = dIn;
        lastOnly = false;
    }
    return {};
}

}  // namespace

void registerRecurrentGpuKernels() {
    registerGpuKernels("embedding", {embedding_fwd, embedding_bwd});
    for (const auto& [id, cell] : {std::pair{"rnn", RnnCell::Rnn}, std::pair{"lstm", RnnCell::Lstm},
                                   std::pair{"gru", RnnCell::Gru}}) {
        registerGpuKernels(
            id, {[cell](const GpuOpContext& c) { return recurrent_fwd(cell, c); },
                 [cell](const GpuOpContext& c) { return recurrent_bwd(cell, c); }});
    }
}

}  // namespace strata::gpu

// embedding, rnn, lstm, gru. Batch-first like PyTorch's modules with batch_first=True; weights
// carry PyTorch's state_dict names and layouts so exported models load into torch.nn.RNN/LSTM/GRU.
//
// Every recurrent layer runs layer by layer and direction by direction: the input projection of
// all time steps is one GEMM, the recurrence is one small GEMM per step. Backward-through-time
// reads the hidden states and gate activations that forward saved as aux tensors.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/engine/cpu_math.h"
#include "core/layers/registry.h"

namespace strata {

namespace {

// ---- embedding: PyTorch nn.Embedding, a row lookup ----

Result<LayerInfo> embeddingInfer(const LayerContext& c) {
    const Shape& x = c.shape(0);
    if (c.inputs[0].type->dtype != DType::Int32) {
        return fail("expects int32 token ids (N, ...) but " + c.gives(0) +
                    " of float values; set the input's dtype to int32");
    }
    if (!x.isBatched()) {
        return fail("expects batched token ids (N, ...) but " + c.gives(0));
    }
    const int64_t num = getInt(c.params, "num_embeddings");
    const int64_t dim = getInt(c.params, "embedding_dim");
    std::vector<int64_t> dims = x.dims();
    dims.push_back(dim);
    LayerInfo info;
    info.outputs.push_back({Shape(dims), DType::Float32});
    info.weights.push_back({"weight", {num, dim}, Init::normal(0.0, 1.0)});
    info.flops = 0;  // a copy of rows: no arithmetic
    return info;
}

// The row an id selects, or -1 for ids outside [0, num): the shape rule cannot see data, so a bad
// id must neither crash nor touch another row; the trainer reports data ranges to the person.
int64_t embeddingRow(float id, int64_t num) {
    if (!(id >= 0.0f) || !(id < static_cast<float>(num))) return -1;
    return static_cast<int64_t>(id);
}

void embedding_fwd(const OpContext& c) {
    const TensorView& ids = c.inputs[0];   // (N, ...)
    const TensorView& w = c.weights[0];    // (num, dim)
    const TensorView& y = c.outputs[0];    // (N, ..., dim)
    const int64_t num = w.shape[0], dim = w.shape[1];
    for (int64_t p = 0; p < ids.numel(); ++p) {
        const int64_t row = embeddingRow(ids[p], num);
        float* out = y.data + p * dim;
        if (row < 0) {
            std::fill(out, out + dim, 0.0f);
        } else {
            std::memcpy(out, w.data + row * dim, sizeof(float) * dim);
        }
    }
}

void embedding_bwd(const OpContext& c) {
    // Positions in increasing order: the sum into a shared row is the same on every run.
    const TensorView& ids = c.inputs[0];     // (N, ...)
    const TensorView& dy = c.gradOutputs[0]; // (N, ..., dim)
    const TensorView& dw = c.gradWeights[0]; // (num, dim)
    if (!dw.data) return;
    const int64_t num = dw.shape[0], dim = dw.shape[1];
    for (int64_t p = 0; p < ids.numel(); ++p) {
        const int64_t row = embeddingRow(ids[p], num);
        if (row < 0) continue;
        const float* g = dy.data + p * dim;
        float* acc = dw.data + row * dim;
        for (int64_t j = 0; j < dim; ++j) acc[j] += g[j];
    }
}

// ---- rnn, lstm, gru ----

enum class Cell { Rnn, Lstm, Gru };

int gateCount(Cell cell) { return cell == Cell::Rnn ? 1 : cell == Cell::Lstm ? 4 : 3; }

// Per layer and direction, after the shared hidden sequence: LSTM keeps gates and cell states,
// GRU keeps gates and W_hn h + b_hn (r multiplies it, so its gradient needs it). A plain RNN's
// derivative comes from its hidden states alone.
int auxPerDirection(Cell cell) { return cell == Cell::Rnn ? 0 : 2; }

const char* suffix(int64_t dir) { return dir == 0 ? "" : "_reverse"; }

// Sizes of one recurrent node, read from its params and input shape.
struct RecurrentDims {
    Cell cell = Cell::Rnn;
    int64_t batch = 0, steps = 0, features = 0, hidden = 0, layers = 1, dirs = 1, gates = 1;
    bool bias = true, relu = false, lastOnly = false;

    int64_t inputSize(int64_t layer) const { return layer == 0 ? features : hidden * dirs; }
    int64_t gateWidth() const { return gates * hidden; }
    int64_t weightIndex(int64_t layer, int64_t dir) const {
        return (layer * dirs + dir) * (bias ? 4 : 2);  // weight_ih, weight_hh[, bias_ih, bias_hh]
    }
    int64_t auxPerLayer() const { return 1 + dirs * auxPerDirection(cell); }
    int64_t hiddenAux(int64_t layer) const { return layer * auxPerLayer(); }
    int64_t gateAux(int64_t layer, int64_t dir) const {
        return layer * auxPerLayer() + 1 + dir * auxPerDirection(cell);
    }
};

RecurrentDims readDims(Cell cell, const Params& p) {
    RecurrentDims d;
    d.cell = cell;
    d.hidden = getInt(p, "hidden_size");
    d.layers = getInt(p, "num_layers");
    d.dirs = getBool(p, "bidirectional") ? 2 : 1;
    d.gates = gateCount(cell);
    d.bias = getBool(p, "bias");
    d.relu = cell == Cell::Rnn && getString(p, "nonlinearity") == "relu";
    d.lastOnly = getString(p, "output") == "last";
    return d;
}

RecurrentDims readDims(Cell cell, const OpContext& c) {
    RecurrentDims d = readDims(cell, c.params);
    const Shape& x = c.inputs[0].shape;  // (N, T, F)
    d.batch = x[0];
    d.steps = x[1];
    d.features = x[2];
    return d;
}

Result<LayerInfo> recurrentInfer(Cell cell, const LayerContext& c) {
    const Shape& x = c.shape(0);
    if (c.inputs[0].type->dtype != DType::Float32) {
        return fail("expects float features (N, T, features) but " + c.gives(0) +
                    " of integer ids; put an embedding before it");
    }
    if (!x.isBatched() || x.rank() != 3) {
        return fail("expects a 3-D sequence (N, T, features) but " + c.gives(0) +
                    "; add a reshape or an embedding before it");
    }
    if (x[1] < 1 || x[2] < 1) {
        return fail("expects at least one time step and one feature (N, T, features) but " +
                    c.gives(0));
    }
    RecurrentDims d = readDims(cell, c.params);
    d.steps = x[1];
    d.features = x[2];
    const int64_t H = d.hidden, T = d.steps, GH = d.gateWidth();
    LayerInfo info;
    info.outputs.push_back({d.lastOnly ? Shape::batched({H * d.dirs})
                                       : Shape::batched({T, H * d.dirs}),
                            DType::Float32});
    // PyTorch initialises every recurrent weight and bias with U(-1/sqrt(H), 1/sqrt(H)).
    const Init init = Init::uniform(1.0 / std::sqrt(static_cast<double>(H)));
    for (int64_t k = 0; k < d.layers; ++k) {
        for (int64_t dir = 0; dir < d.dirs; ++dir) {
            const std::string s = std::to_string(k) + suffix(dir);
            info.weights.push_back({"weight_ih_l" + s, {GH, d.inputSize(k)}, init});
            info.weights.push_back({"weight_hh_l" + s, {GH, H}, init});
            if (d.bias) {
                info.weights.push_back({"bias_ih_l" + s, {GH}, init});
                info.weights.push_back({"bias_hh_l" + s, {GH}, init});
            }
            // Both projections (2 per multiply-add), two bias adds, ~one op per gate value.
            info.flops += T * GH * (2 * d.inputSize(k) + 2 * H + (d.bias ? 2 : 0) + 1);
        }
        // Aux layout must agree with RecurrentDims::hiddenAux/gateAux.
        info.aux.push_back({"hidden_l" + std::to_string(k), Shape::batched({T, H * d.dirs})});
        for (int64_t dir = 0; dir < d.dirs; ++dir) {
            const std::string s = std::to_string(k) + suffix(dir);
            if (cell == Cell::Lstm) {
                info.aux.push_back({"gates_l" + s, Shape::batched({T, GH})});  // i, f, g, o
                info.aux.push_back({"cell_l" + s, Shape::batched({T, H})});
            } else if (cell == Cell::Gru) {
                info.aux.push_back({"gates_l" + s, Shape::batched({T, GH})});  // r, z, n
                info.aux.push_back({"hidden_proj_n_l" + s, Shape::batched({T, H})});
            }
        }
    }
    return info;
}

using cpu::fastTanh;
using cpu::sigmoid;

// The time index of step s of direction dir: the reverse direction walks the sequence backwards.
int64_t timeAt(const RecurrentDims& d, int64_t dir, int64_t s) {
    return dir == 0 ? s : d.steps - 1 - s;
}

// Samples of a batch never meet inside a recurrence, so each thread runs the whole sequence for
// its own rows of the batch (a few samples per thread at least: a step's GEMM must stay worth a
// call) and the threads meet only at the end of a layer.
constexpr int64_t kRowsPerThread = 4;

// p[r][j] += b1[j] (+ b2[j]) over `rows` rows of width `cols`.
void addBiasRows(float* p, int64_t rows, int64_t cols, const float* b1, const float* b2) {
    cpu::parallelFor(rows, 64, [=](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            float* row = p + r * cols;
            if (b2) {
                for (int64_t j = 0; j < cols; ++j) row[j] += b1[j] + b2[j];
            } else {
                for (int64_t j = 0; j < cols; ++j) row[j] += b1[j];
            }
        }
    });
}

void recurrent_fwd(Cell cell, const OpContext& c) {
    const RecurrentDims d = readDims(cell, c);
    const int64_t N = d.batch, T = d.steps, H = d.hidden, GH = d.gateWidth();
    const int64_t HD = H * d.dirs;
    std::vector<float> pre(static_cast<size_t>(N * T * GH));  // (N, T, GH) W_ih x + biases
    std::vector<float> hprev(static_cast<size_t>(N * H));     // (N, H)
    std::vector<float> cprev(static_cast<size_t>(N * H));     // (N, H) LSTM cell state
    std::vector<float> hh(static_cast<size_t>(N * GH));       // (N, GH) W_hh h_{t-1}, GRU + b_hh
    for (int64_t k = 0; k < d.layers; ++k) {
        const float* in = k == 0 ? c.inputs[0].data : c.aux[d.hiddenAux(k - 1)].data;  // (N,T,in)
        const int64_t inK = d.inputSize(k);
        float* hseq = c.aux[d.hiddenAux(k)].data;  // (N, T, H*dirs)
        for (int64_t dir = 0; dir < d.dirs; ++dir) {
            const int64_t wi = d.weightIndex(k, dir);
            const float* wih = c.weights[wi].data;      // (GH, in)
            const float* whh = c.weights[wi + 1].data;  // (GH, H)
            const float* bih = d.bias ? c.weights[wi + 2].data : nullptr;  // (GH)
            const float* bhh = d.bias ? c.weights[wi + 3].data : nullptr;  // (GH)
            cpu::gemm(false, true, N * T, GH, inK, 1.0f, in, wih, 0.0f, pre.data());
            // GRU keeps b_hn inside r * (W_hn h + b_hn), so only RNN/LSTM fold b_hh in here.
            if (d.bias) addBiasRows(pre.data(), N * T, GH, bih, cell != Cell::Gru ? bhh : nullptr);
            const bool saved = cell != Cell::Rnn;
            float* gates = saved ? c.aux[d.gateAux(k, dir)].data : nullptr;      // (N, T, GH)
            float* extra = saved ? c.aux[d.gateAux(k, dir) + 1].data : nullptr;  // (N, T, H)
            cpu::parallelFor(N, kRowsPerThread, [&](int64_t n0, int64_t n1) {
                const int64_t rows = n1 - n0;
                float* hp0 = hprev.data() + n0 * H;  // (rows, H)
                float* cp0 = cprev.data() + n0 * H;  // (rows, H)
                float* hh0 = hh.data() + n0 * GH;    // (rows, GH)
                std::fill(hp0, hp0 + rows * H, 0.0f);
                std::fill(cp0, cp0 + rows * H, 0.0f);
                for (int64_t s = 0; s < T; ++s) {
                    const int64_t t = timeAt(d, dir, s);
                    cpu::gemm(false, true, rows, GH, H, 1.0f, hp0, whh, 0.0f, hh0);
                    for (int64_t n = n0; n < n1; ++n) {
                        const float* p = pre.data() + (n * T + t) * GH;
                        float* q = hh.data() + n * GH;
                        float* hp = hprev.data() + n * H;
                        float* cs = cprev.data() + n * H;
                        float* hout = hseq + (n * T + t) * HD + dir * H;
                        float* g = gates ? gates + (n * T + t) * GH : nullptr;
                        float* e = extra ? extra + (n * T + t) * H : nullptr;
                        if (cell == Cell::Rnn) {
                            for (int64_t j = 0; j < H; ++j) {
                                const float a = p[j] + q[j];
                                hp[j] = d.relu ? std::max(a, 0.0f) : fastTanh(a);
                            }
                        } else if (cell == Cell::Lstm) {
                            for (int64_t j = 0; j < H; ++j) {
                                const float ig = sigmoid(p[j] + q[j]);
                                const float fg = sigmoid(p[H + j] + q[H + j]);
                                const float gg = fastTanh(p[2 * H + j] + q[2 * H + j]);
                                const float og = sigmoid(p[3 * H + j] + q[3 * H + j]);
                                cs[j] = fg * cs[j] + ig * gg;
                                hp[j] = og * fastTanh(cs[j]);
                                g[j] = ig;
                                g[H + j] = fg;
                                g[2 * H + j] = gg;
                                g[3 * H + j] = og;
                                e[j] = cs[j];
                            }
                        } else {
                            if (d.bias) {
                                for (int64_t j = 0; j < GH; ++j) q[j] += bhh[j];
                            }
                            for (int64_t j = 0; j < H; ++j) {
                                const float hn = q[2 * H + j];
                                const float rg = sigmoid(p[j] + q[j]);
                                const float zg = sigmoid(p[H + j] + q[H + j]);
                                const float ng = fastTanh(p[2 * H + j] + rg * hn);
                                hp[j] = (1.0f - zg) * ng + zg * hp[j];
                                g[j] = rg;
                                g[H + j] = zg;
                                g[2 * H + j] = ng;
                                e[j] = hn;
                            }
                        }
                        std::memcpy(hout, hp, sizeof(float) * H);
                    }
                }
            });
        }
    }
    const float* top = c.aux[d.hiddenAux(d.layers - 1)].data;  // (N, T, H*dirs)
    float* y = c.outputs[0].data;
    if (!d.lastOnly) {
        std::memcpy(y, top, sizeof(float) * N * T * HD);
        return;
    }
    // torch's h_n of the top layer: each direction's final state.
    for (int64_t n = 0; n < N; ++n) {
        for (int64_t dir = 0; dir < d.dirs; ++dir) {
            const int64_t t = timeAt(d, dir, T - 1);
            std::memcpy(y + n * HD + dir * H, top + (n * T + t) * HD + dir * H, sizeof(float) * H);
        }
    }
}

// out[j] += sum over rows of m[r][j]; threads take column ranges so each sum keeps its order.
void addColumnSums(const float* m, int64_t rows, int64_t cols, float* out) {
    cpu::parallelFor(cols, 64, [=](int64_t j0, int64_t j1) {
        for (int64_t r = 0; r < rows; ++r) {
            const float* row = m + r * cols;
            for (int64_t j = j0; j < j1; ++j) out[j] += row[j];
        }
    });
}

void recurrent_bwd(Cell cell, const OpContext& c) {
    const RecurrentDims d = readDims(cell, c);
    const int64_t N = d.batch, T = d.steps, H = d.hidden, GH = d.gateWidth();
    const int64_t HD = H * d.dirs;
    // Gradient of the current layer's output sequence, starting with the top layer's: dy itself
    // for a sequence output (no copy: these buffers count in the step's peak memory).
    std::vector<float> dSeq;  // (N, T, H*dirs)
    const float* dy = c.gradOutputs[0].data;
    if (d.lastOnly) {
        dSeq.assign(static_cast<size_t>(N * T * HD), 0.0f);
        for (int64_t n = 0; n < N; ++n) {
            for (int64_t dir = 0; dir < d.dirs; ++dir) {
                const int64_t t = timeAt(d, dir, T - 1);
                std::memcpy(dSeq.data() + (n * T + t) * HD + dir * H, dy + n * HD + dir * H,
                            sizeof(float) * H);
            }
        }
    }
    std::vector<float> dBelow;                                // (N, T, H*dirs)
    std::vector<float> dXp(static_cast<size_t>(N * T * GH));  // (N, T, GH) d(input projection)
    std::vector<float> dHpGru;                                // (N, T, GH) d(W_hh h + b_hh), GRU
    if (cell == Cell::Gru) dHpGru.resize(static_cast<size_t>(N * T * GH));
    std::vector<float> dhStep(static_cast<size_t>(N * GH));   // (N, GH) this step's d(W_hh h)
    std::vector<float> dhA(static_cast<size_t>(N * H));       // (N, H) into h_t from later steps
    std::vector<float> dhB(static_cast<size_t>(N * H));       // (N, H) into h_{t-1}
    std::vector<float> dc(static_cast<size_t>(N * H));        // (N, H) LSTM, into c_t
    const float* dCur = d.lastOnly ? dSeq.data() : dy;       // (N, T, H*dirs) into layer k
    // h_{t-1} of a block of (n, t) rows for the W_hh gradient, gathered a block at a time
    // (about 256 KiB; the whole (N, T, H) sequence was 1 MiB of W3's peak).
    const int64_t prevRows = std::clamp<int64_t>((int64_t{1} << 16) / H, 1, N * T);
    std::vector<float> hPrevBlock(static_cast<size_t>(prevRows * H));  // (rows, H)
    for (int64_t k = d.layers - 1; k >= 0; --k) {
        const float* in = k == 0 ? c.inputs[0].data : c.aux[d.hiddenAux(k - 1)].data;  // (N,T,in)
        const int64_t inK = d.inputSize(k);
        float* dIn = nullptr;  // (N, T, in)
        if (k == 0) {
            dIn = c.gradInputs.empty() ? nullptr : c.gradInputs[0].data;
        } else {
            dBelow.assign(static_cast<size_t>(N * T * HD), 0.0f);
            dIn = dBelow.data();
        }
        const float* hseq = c.aux[d.hiddenAux(k)].data;  // (N, T, H*dirs)
        for (int64_t dir = 0; dir < d.dirs; ++dir) {
            const int64_t wi = d.weightIndex(k, dir);
            const float* wih = c.weights[wi].data;      // (GH, in)
            const float* whh = c.weights[wi + 1].data;  // (GH, H)
            const float* gates = cell == Cell::Rnn ? nullptr : c.aux[d.gateAux(k, dir)].data;
            const float* extra = cell == Cell::Rnn ? nullptr : c.aux[d.gateAux(k, dir) + 1].data;
            float* dHp = cell == Cell::Gru ? dHpGru.data() : dXp.data();
            cpu::parallelFor(N, kRowsPerThread, [&](int64_t n0, int64_t n1) {
                const int64_t rows = n1 - n0;
                float* dh = dhA.data();      // (N, H) rows n0..n1 are this thread's
                float* dhNext = dhB.data();  // (N, H)
                std::fill(dh + n0 * H, dh + n1 * H, 0.0f);
                std::fill(dc.begin() + n0 * H, dc.begin() + n1 * H, 0.0f);
                for (int64_t s = T - 1; s >= 0; --s) {
                    const int64_t t = timeAt(d, dir, s);
                    const int64_t tPrev = s > 0 ? timeAt(d, dir, s - 1) : -1;
                    for (int64_t n = n0; n < n1; ++n) {
                        const float* h = hseq + (n * T + t) * HD + dir * H;
                        const float* hp =
                            tPrev >= 0 ? hseq + (n * T + tPrev) * HD + dir * H : nullptr;
                        const float* dyt = dCur + (n * T + t) * HD + dir * H;
                        const float* dhn = dh + n * H;
                        float* dx = dXp.data() + (n * T + t) * GH;
                        float* dq = dhStep.data() + n * GH;
                        float* dcn = dc.data() + n * H;
                        float* direct = dhNext + n * H;  // GRU: the z * h_{t-1} term, else 0
                        if (cell == Cell::Rnn) {
                            for (int64_t j = 0; j < H; ++j) {
                                const float g = dhn[j] + dyt[j];  // dLoss/dh_t
                                const float a = d.relu ? (h[j] > 0.0f ? g : 0.0f)
                                                       : g * (1.0f - h[j] * h[j]);
                                dx[j] = a;
                                dq[j] = a;
                                direct[j] = 0.0f;
                            }
                        } else if (cell == Cell::Lstm) {
                            const float* gt = gates + (n * T + t) * GH;
                            const float* cst = extra + (n * T + t) * H;
                            const float* cPrev = tPrev >= 0 ? extra + (n * T + tPrev) * H : nullptr;
                            for (int64_t j = 0; j < H; ++j) {
                                const float g = dhn[j] + dyt[j];
                                const float ig = gt[j], fg = gt[H + j], gg = gt[2 * H + j];
                                const float og = gt[3 * H + j];
                                const float tc = fastTanh(cst[j]);
                                const float dcs = dcn[j] + g * og * (1.0f - tc * tc);
                                dcn[j] = dcs * fg;
                                dx[j] = dcs * gg * ig * (1.0f - ig);
                                dx[H + j] = dcs * (cPrev ? cPrev[j] : 0.0f) * fg * (1.0f - fg);
                                dx[2 * H + j] = dcs * ig * (1.0f - gg * gg);
                                dx[3 * H + j] = g * tc * og * (1.0f - og);
                                direct[j] = 0.0f;
                            }
                            std::memcpy(dq, dx, sizeof(float) * GH);
                        } else {
                            const float* gt = gates + (n * T + t) * GH;
                            const float* hnt = extra + (n * T + t) * H;
                            for (int64_t j = 0; j < H; ++j) {
                                const float g = dhn[j] + dyt[j];
                                const float hPrev = hp ? hp[j] : 0.0f;
                                const float rg = gt[j], zg = gt[H + j], ng = gt[2 * H + j];
                                const float dn = g * (1.0f - zg) * (1.0f - ng * ng);
                                const float dr = dn * hnt[j] * rg * (1.0f - rg);
                                const float dz = g * (hPrev - ng) * zg * (1.0f - zg);
                                dx[j] = dr;
                                dx[H + j] = dz;
                                dx[2 * H + j] = dn;
                                dq[j] = dr;
                                dq[H + j] = dz;
                                dq[2 * H + j] = dn * rg;
                                direct[j] = g * zg;
                            }
                            std::memcpy(dHp + (n * T + t) * GH, dq, sizeof(float) * GH);
                        }
                    }
                    cpu::gemm(false, false, rows, H, GH, 1.0f, dhStep.data() + n0 * GH, whh, 1.0f,
                              dhNext + n0 * H);
                    std::swap(dh, dhNext);
                }
            });
            // Weight gradients over all steps at once, now that every step's dXp/dHp is known.
            auto gradWeight = [&](int64_t i) -> float* {
                return i < static_cast<int64_t>(c.gradWeights.size()) ? c.gradWeights[i].data
                                                                     : nullptr;
            };
            if (float* g = gradWeight(wi)) {  // (GH, in)
                cpu::gemm(true, false, GH, inK, N * T, 1.0f, dXp.data(), in, 1.0f, g);
            }
            if (float* g = gradWeight(wi + 1)) {  // (GH, H)
                for (int64_t r0 = 0; r0 < N * T; r0 += prevRows) {
                    const int64_t rows = std::min(prevRows, N * T - r0);
                    for (int64_t r = r0; r < r0 + rows; ++r) {
                        const int64_t n = r / T, t = r % T;
                        const int64_t s = timeAt(d, dir, t);  // the step at time t
                        float* row = hPrevBlock.data() + (r - r0) * H;
                        if (s == 0) {
                            std::fill(row, row + H, 0.0f);
                        } else {
                            const int64_t tPrev = timeAt(d, dir, s - 1);
                            std::memcpy(row, hseq + (n * T + tPrev) * HD + dir * H,
                                        sizeof(float) * H);
                        }
                    }
                    cpu::gemm(true, false, GH, H, rows, 1.0f, dHp + r0 * GH, hPrevBlock.data(),
                              1.0f, g);
                }
            }
            if (d.bias) {
                if (float* g = gradWeight(wi + 2)) addColumnSums(dXp.data(), N * T, GH, g);
                if (float* g = gradWeight(wi + 3)) addColumnSums(dHp, N * T, GH, g);
            }
            if (dIn) cpu::gemm(false, false, N * T, inK, GH, 1.0f, dXp.data(), wih, 1.0f, dIn);
        }
        if (k > 0) {
            std::swap(dSeq, dBelow);
            dCur = dSeq.data();
        }
    }
}

std::vector<ParamSpec> recurrentParams(bool withNonlinearity) {
    std::vector<ParamSpec> p = {
        intParam("hidden_size", 64, 1, 1 << 16, "features in the hidden state h"),
        intParam("num_layers", 1, 1, 16, "stacked recurrent layers, each reading the one below"),
    };
    if (withNonlinearity) {
        p.push_back(enumParam("nonlinearity", "tanh", {"tanh", "relu"}, "activation of h"));
    }
    p.push_back(boolParam("bidirectional", false,
                          "also run the sequence backwards and concatenate both directions"));
    p.push_back(enumParam("output", "sequence", {"sequence", "last"},
                          "every step (N, T, H*dirs) or the final states (N, H*dirs) as torch's "
                          "h_n of the top layer"));
    p.push_back(boolParam("bias", true, "learn the biases b_ih and b_hh"));
    return p;
}

// Named pairs for each cell (the house rule: forward and backward side by side, named alike).
void rnn_fwd(const OpContext& c) { recurrent_fwd(Cell::Rnn, c); }
void rnn_bwd(const OpContext& c) { recurrent_bwd(Cell::Rnn, c); }
void lstm_fwd(const OpContext& c) { recurrent_fwd(Cell::Lstm, c); }
void lstm_bwd(const OpContext& c) { recurrent_bwd(Cell::Lstm, c); }
void gru_fwd(const OpContext& c) { recurrent_fwd(Cell::Gru, c); }
void gru_bwd(const OpContext& c) { recurrent_bwd(Cell::Gru, c); }

LayerSpec recurrentSpec(Cell cell, std::string id, std::string label, std::string doc,
                        CpuKernel forward, CpuKernel backward) {
    return {
        .id = std::move(id),
        .label = std::move(label),
        .category = "Recurrent",
        .doc = std::move(doc),
        .inputs = {{"in", "(N, T, features)"}},
        .outputs = {{"out", "(N, T, H*dirs) or (N, H*dirs) with output = last"}},
        .params = recurrentParams(cell == Cell::Rnn),
        .infer = [cell](const LayerContext& c) { return recurrentInfer(cell, c); },
        .forward = std::move(forward),
        .backward = std::move(backward),
    };
}

}  // namespace

void registerRecurrentLayers(LayerRegistry& r) {
    r.add({
        .id = "embedding",
        .label = "Embedding",
        .category = "Recurrent",
        .doc = "Looks up a learned vector for each integer id; ids out of range give zeros.",
        .inputs = {{"in", "int32 ids (N, ...)"}},
        .outputs = {{"out", "(N, ..., embedding_dim)"}},
        .params = {intParam("num_embeddings", 1000, 1, 1 << 24,
                            "number of distinct ids (vocabulary size)"),
                   intParam("embedding_dim", 64, 1, 1 << 16, "size of each vector")},
        .infer = embeddingInfer,
        .forward = embedding_fwd,
        .backward = embedding_bwd,
    });
    r.add(recurrentSpec(
        Cell::Rnn, "rnn", "RNN",
        "Elman RNN: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), batch-first.", rnn_fwd,
        rnn_bwd));
    r.add(recurrentSpec(Cell::Lstm, "lstm", "LSTM",
                        "Long short-term memory with gates i, f, g, o, batch-first.", lstm_fwd,
                        lstm_bwd));
    r.add(recurrentSpec(Cell::Gru, "gru", "GRU",
                        "Gated recurrent unit with gates r, z, n (PyTorch's formula), batch-first.",
                        gru_fwd, gru_bwd));
}

}  // namespace strata

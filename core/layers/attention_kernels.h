#pragma once
// CPU building blocks shared by layer_norm, multi_head_attention and transformer_encoder_layer:
// the block composes the same row kernels and attention core that the single layers use, so a
// fix in one place reaches all of them. Conventions follow OpContext: forward functions write
// their outputs completely; backward functions ADD into gradients (+=) and skip null pointers.
#include <cstdint>

namespace strata::attn {

// ---- dropout sites ----

// One dropout application. Several sites in one node (attention probabilities, residuals) draw
// from independent streams: site k uses siteSeed(seed, k). Element i is kept when
// cpu::uniform01(siteSeed, i) >= p and is then scaled by 1 / (1 - p).
struct Dropout {
    float p = 0.0f;
    uint64_t seed = 0;
    bool enabled = false;  // training and p > 0

    static Dropout make(bool training, double p, uint64_t nodeSeed, uint32_t site);
    // x[i] *= mask[i] / (1 - p) for i in [0, n); a no-op when disabled.
    void apply(float* x, int64_t n) const { applyAt(x, n, 0); }
    // The same for a piece of a larger tensor: x[i] is element offset + i of the whole.
    void applyAt(float* x, int64_t n, int64_t offset) const;
};

uint64_t siteSeed(uint64_t seed, uint32_t site);

// ---- per-thread scratch ----

// Work buffers of the calling thread that persist across calls: a step runs the same kernels at
// the same sizes every time, so after the first step no buffer is allocated (nor page-faulted)
// inside a step. Each slot has one user at a time: a kernel that calls another must not share
// its slots. The contents are undefined on return.
// Slots used inside a parallelFor (MhaHead, MhaHeadDrop, NormRow) are per worker thread.
enum class Scratch : int {
    MhaDContext, MhaDQkv, MhaDKv, MhaBias, MhaHead, MhaHeadDrop,  // mhaBwd (and mhaFwd)
    NormPartials, NormRow,                                        // layerNormRowsBwd
    BlockA, BlockB, BlockC, FfnOut, FfnAct, FfnBias,              // transformer block backward
    Positional,                                                   // positional_encoding
    Count
};
float* scratch(Scratch slot, int64_t floats);

// ---- layer normalisation over rows of length d (PyTorch nn.LayerNorm over the last dim) ----

// y = (x - mean) * rstd * gamma + beta; gamma/beta may be null (no affine).
void layerNormRowsFwd(const float* x, int64_t rows, int64_t d, float eps, const float* gamma,
                      const float* beta, float* y, float* mean, float* rstd);
// x: (rows, d), the forward's input; dy: (rows, d); dx, dgamma, dbeta accumulate (may be null).
void layerNormRowsBwd(const float* x, const float* dy, int64_t rows, int64_t d,
                      const float* gamma, const float* mean, const float* rstd, float* dx,
                      float* dgamma, float* dbeta);

// ---- nn.Linear over rows ----

// y (rows, out) = x (rows, in) w^T (in, out) + b [+ residual (rows, out)]; b may be null.
void linearRowsFwd(const float* x, int64_t rows, int64_t in, int64_t out, const float* w,
                   const float* b, float* y, const float* residual = nullptr);
// dx += dy w (dx = dy w when overwriteDx); dw += dy^T x; db += colsum(dy)  (each may be null)
void linearRowsBwd(const float* x, const float* dy, int64_t rows, int64_t in, int64_t out,
                   const float* w, float* dx, float* dw, float* db, bool overwriteDx = false);

// ---- multi-head attention core (PyTorch nn.MultiheadAttention, batch_first) ----

struct MhaShape {
    int64_t n = 1;  // batch
    int64_t t = 1;  // query length
    int64_t s = 1;  // key/value length (t for self-attention)
    int64_t e = 1;  // embed size
    int64_t h = 1;  // heads
    int64_t headDim() const { return e / h; }
};

struct MhaWeights {
    const float* inW = nullptr;   // (3E, E): rows q, k, v
    const float* inB = nullptr;   // (3E) or null
    const float* outW = nullptr;  // (E, E)
    const float* outB = nullptr;  // (E) or null
};

struct MhaGrads {
    float* inW = nullptr;  // each accumulates, may be null
    float* inB = nullptr;
    float* outW = nullptr;
    float* outB = nullptr;
};

// What forward saves for backward; every pointer is required. The projections keep the rows
// of nn.Linear (head h is columns [h*Dh, (h+1)*Dh)): the per-head products read them in place
// through their leading dimension, so no head is ever copied out.
struct MhaSaved {
    float* attention = nullptr;  // (N, H, T, S) softmax probabilities before dropout
    float* q = nullptr;          // (N, T, E) projected queries
    float* k = nullptr;          // (N, S, E)
    float* v = nullptr;          // (N, S, E)
    float* context = nullptr;    // (N, T, E) heads merged, before out_proj
};

// x: (N, T, E) query source; memory: (N, S, E) key/value source or null for self-attention.
// out: (N, T, E), plus residual (N, T, E) when that is not null (a residual connection added
// for free: out_proj's product accumulates onto it).
void mhaFwd(const MhaShape& sh, const float* x, const float* memory, const MhaWeights& w,
            bool causal, const Dropout& drop, const MhaSaved& saved, float* out,
            const float* residual = nullptr);
// dx (N, T, E) and dmemory (N, S, E) accumulate (dx is overwritten when overwriteDx) and may
// be null. For self-attention every path (q, k and v) flows into dx.
void mhaBwd(const MhaShape& sh, const float* x, const float* memory, const MhaWeights& w,
            const Dropout& drop, const MhaSaved& saved, const float* dout, float* dx,
            float* dmemory, const MhaGrads& g, bool overwriteDx = false);

}  // namespace strata::attn

#include "core/layers/attention_kernels.h"


#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/engine/cpu_math.h"

namespace strata::attn {

// ---- dropout ----

uint64_t siteSeed(uint64_t seed, uint32_t site) {
    // A golden-ratio step per site keeps the streams of one node apart; site 0 is the node's
    // own seed. The Vulkan kernels derive their site seeds the same way.
    return seed + static_cast<uint64_t>(site) * 0x9E3779B97F4A7C15ull;
}

Dropout Dropout::make(bool training, double p, uint64_t nodeSeed, uint32_t site) {
    Dropout d;
    d.p = static_cast<float>(p);
    d.seed = siteSeed(nodeSeed, site);
    d.enabled = training && p > 0.0;
    return d;
}

void Dropout::applyAt(float* x, int64_t n, int64_t offset) const {
    if (!enabled) return;
    const float scale = 1.0f / (1.0f - p);
    for (int64_t i = 0; i < n; ++i) {
        const auto index = static_cast<uint64_t>(offset + i);
        x[i] = cpu::uniform01(seed, index) >= p ? x[i] * scale : 0.0f;
    }
}

// ---- scratch ----

float* scratch(Scratch slot, int64_t floats) {
    thread_local std::vector<float> slots[static_cast<int>(Scratch::Count)];
    std::vector<float>& s = slots[static_cast<int>(slot)];
    if (static_cast<int64_t>(s.size()) < floats) s.resize(static_cast<size_t>(floats));
    return s.data();
}

namespace {

// Rows per thread at least, for the row kernels below (a row is d or s floats).
int64_t rowGrain(int64_t rowLength) {
    return std::max<int64_t>(1, 8192 / std::max<int64_t>(1, rowLength));
}

// Reductions over a row in kLanes interleaved partial sums, combined in a fixed order: the
// compiler vectorises them (it may not reorder one running float sum), and the result depends
// on the row alone, never on how rows were spread over threads.
constexpr int kLanes = 8;

float rowSum(const float* x, int64_t n) {
    float acc[kLanes] = {};
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes) {
        for (int l = 0; l < kLanes; ++l) acc[l] += x[j + l];
    }
    for (; j < n; ++j) acc[0] += x[j];
    float s = 0.0f;
    for (int l = 0; l < kLanes; ++l) s += acc[l];
    return s;
}

float rowDot(const float* x, const float* y, int64_t n) {
    float acc[kLanes] = {};
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes) {
        for (int l = 0; l < kLanes; ++l) acc[l] += x[j + l] * y[j + l];
    }
    for (; j < n; ++j) acc[0] += x[j] * y[j];
    float s = 0.0f;
    for (int l = 0; l < kLanes; ++l) s += acc[l];
    return s;
}

float rowMax(const float* x, int64_t n) {
    float acc[kLanes];
    for (int l = 0; l < kLanes; ++l) acc[l] = -std::numeric_limits<float>::infinity();
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes) {
        for (int l = 0; l < kLanes; ++l) acc[l] = acc[l] > x[j + l] ? acc[l] : x[j + l];
    }
    for (; j < n; ++j) acc[0] = acc[0] > x[j] ? acc[0] : x[j];
    float m = acc[0];
    for (int l = 1; l < kLanes; ++l) m = m > acc[l] ? m : acc[l];
    return m;
}

// e^v to about 2 float ulps for 4 values at once (std::exp is a call per element and GCC does
// not vectorise a scalar version of this: the clamps count as control flow). 16-byte vectors,
// because every x86-64 (SSE2) and ARM (NEON) has them: wider ones are split into scalar
// comparisons without AVX. Cephes' expf: v = n ln2 + r with |r| <= ln2 / 2, a degree-7
// polynomial for e^r, and 2^n put into the exponent bits. Inputs below -87 give about 1e-38
// instead of a denormal; softmax arguments are <= 0, so that only rounds a vanishing weight.
using Float4 = float __attribute__((vector_size(16)));
using Int4 = int32_t __attribute__((vector_size(16)));
constexpr int64_t kVec = 4;

[[gnu::always_inline]] inline Float4 expApprox(Float4 v) {
    // Clamped to [-87, 88] by bitwise selects, which need no NaN rules.
    const Float4 lo = Float4{} - 87.0f, hi = Float4{} + 88.0f;
    const Int4 below = v < lo, above = v > hi;
    Int4 bits = std::bit_cast<Int4>(v);
    bits = (bits & ~below) | (std::bit_cast<Int4>(lo) & below);
    bits = (bits & ~above) | (std::bit_cast<Int4>(hi) & above);
    v = std::bit_cast<Float4>(bits);
    constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
    const Float4 shifted = v * 1.44269504088896341f + kMagic;
    const Float4 n = shifted - kMagic;
    const Int4 ni = std::bit_cast<Int4>(shifted) - std::bit_cast<int32_t>(kMagic);
    const Float4 r = (v - n * 0.693359375f) - n * -2.12194440e-4f;
    Float4 p = Float4{} + 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const Int4 scale = (ni + 127) << 23;  // 2^n
    return p * std::bit_cast<Float4>(scale);
}

// One softmax row in place over its first `valid` entries; the rest become exactly 0. The row's
// s entries must all be finite: the exponentials run in whole vectors wherever the row has
// room for them, past `valid` too (those are overwritten with 0 after), which keeps the tail of
// a causal row off a slow partial copy.
void softmaxRow(float* row, int64_t valid, int64_t s) {
    const float mx = rowMax(row, valid);
    int64_t j = 0;
    for (; j < valid && j + kVec <= s; j += kVec) {
        Float4 v;
        std::memcpy(&v, row + j, sizeof v);
        v = expApprox(v - mx);
        std::memcpy(row + j, &v, sizeof v);
    }
    if (j < valid) {  // a row shorter than a whole vector: through a padded copy
        Float4 v{};
        std::memcpy(&v, row + j, sizeof(float) * (valid - j));
        v = expApprox(v - mx);
        std::memcpy(row + j, &v, sizeof(float) * (valid - j));
    }
    const float inv = 1.0f / rowSum(row, valid);
    for (j = 0; j < valid; ++j) row[j] *= inv;
    for (j = valid; j < s; ++j) row[j] = 0.0f;
}

// dp becomes dscores in place: dS = P * (dP - rowsum(dP * P)).
void softmaxRowBwd(const float* p, float* dp, int64_t s) {
    const float dot = rowDot(dp, p, s);
    for (int64_t j = 0; j < s; ++j) dp[j] = p[j] * (dp[j] - dot);
}

// sum[j] += x[r * ld + j] over rows r in order, for j < cols; sum is not part of x.
void addColumnSums(const float* __restrict x, int64_t rows, int64_t cols, int64_t ld,
                   float* __restrict sum) {
    // Four rows per pass over sum: a quarter of the loads and stores of sum.
    int64_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        const float* x0 = x + r * ld;
        for (int64_t j = 0; j < cols; ++j) {
            sum[j] += (x0[j] + x0[ld + j]) + (x0[2 * ld + j] + x0[3 * ld + j]);
        }
    }
    for (; r < rows; ++r) {
        for (int64_t j = 0; j < cols; ++j) sum[j] += x[r * ld + j];
    }
}

}  // namespace

// ---- layer norm ----

void layerNormRowsFwd(const float* x, int64_t rows, int64_t d, float eps, const float* gamma,
                      const float* beta, float* y, float* mean, float* rstd) {
    const float invD = 1.0f / static_cast<float>(d);
    cpu::parallelFor(rows, rowGrain(d), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            const float* xr = x + r * d;
            float* yr = y + r * d;
            const float mu = rowSum(xr, d) * invD;
            for (int64_t j = 0; j < d; ++j) yr[j] = xr[j] - mu;  // centred, squared below
            // Biased variance, as nn.LayerNorm; two passes, so no cancellation.
            const float rs = 1.0f / std::sqrt(rowDot(yr, yr, d) * invD + eps);
            mean[r] = mu;
            rstd[r] = rs;
            if (gamma) {
                for (int64_t j = 0; j < d; ++j) yr[j] = yr[j] * rs * gamma[j] + beta[j];
            } else {
                for (int64_t j = 0; j < d; ++j) yr[j] = yr[j] * rs;
            }
        }
    });
}

void layerNormRowsBwd(const float* x, const float* dy, int64_t rows, int64_t d,
                      const float* gamma, const float* mean, const float* rstd, float* dx,
                      float* dgamma, float* dbeta) {
    // dgamma and dbeta sum over rows: each chunk of rows (a fixed size, whatever the thread
    // count) sums into its own partials, which are then added in chunk order.
    const bool params = dgamma || dbeta;
    if (!params && !dx) return;
    const int64_t chunkRows = rowGrain(d) / 2 + 1;
    const int64_t chunks = (rows + chunkRows - 1) / chunkRows;
    float* partials = params ? scratch(Scratch::NormPartials, chunks * 2 * d) : nullptr;
    const float invD = 1.0f / static_cast<float>(d);
    cpu::parallelFor(chunks, 1, [&](int64_t c0, int64_t c1) {
        float* xhat = scratch(Scratch::NormRow, 2 * d);  // (2, d): x-hat and dy * gamma
        float* g = xhat + d;
        for (int64_t ch = c0; ch < c1; ++ch) {
            float* pg = params ? partials + ch * 2 * d : nullptr;  // (d) dgamma partial
            float* pb = params ? pg + d : nullptr;                 // (d) dbeta partial
            if (params) std::fill(pg, pg + 2 * d, 0.0f);
            const int64_t rEnd = std::min(rows, (ch + 1) * chunkRows);
            for (int64_t r = ch * chunkRows; r < rEnd; ++r) {
                const float* xr = x + r * d;
                const float* dyr = dy + r * d;
                const float mu = mean[r], rs = rstd[r];
                for (int64_t j = 0; j < d; ++j) xhat[j] = (xr[j] - mu) * rs;
                if (params) {
                    for (int64_t j = 0; j < d; ++j) {
                        pg[j] += dyr[j] * xhat[j];
                        pb[j] += dyr[j];
                    }
                }
                if (!dx) continue;
                if (gamma) {
                    for (int64_t j = 0; j < d; ++j) g[j] = dyr[j] * gamma[j];
                } else {
                    std::copy(dyr, dyr + d, g);
                }
                // the means of dxhat and dxhat * xhat over the row
                const float meanG = rowSum(g, d) * invD;
                const float meanGX = rowDot(g, xhat, d) * invD;
                float* dxr = dx + r * d;
                for (int64_t j = 0; j < d; ++j) {
                    dxr[j] += rs * (g[j] - meanG - xhat[j] * meanGX);
                }
            }
        }
    });
    if (!params) return;
    for (int64_t ch = 0; ch < chunks; ++ch) {
        const float* pg = partials + ch * 2 * d;
        if (dgamma) {
            for (int64_t j = 0; j < d; ++j) dgamma[j] += pg[j];
        }
        if (dbeta) {
            for (int64_t j = 0; j < d; ++j) dbeta[j] += pg[d + j];
        }
    }
}

// ---- linear ----

void linearRowsFwd(const float* x, int64_t rows, int64_t in, int64_t out, const float* w,
                   const float* b, float* y, const float* residual) {
    if (b || residual) {
        // The bias and residual first, then the product adds onto them: one pass over y fewer.
        cpu::parallelFor(rows, rowGrain(out), [&](int64_t r0, int64_t r1) {
            for (int64_t r = r0; r < r1; ++r) {
                float* yr = y + r * out;
                if (!residual) {
                    std::copy(b, b + out, yr);
                } else if (!b) {
                    std::copy(residual + r * out, residual + (r + 1) * out, yr);
                } else {
                    const float* rr = residual + r * out;
                    for (int64_t o = 0; o < out; ++o) yr[o] = rr[o] + b[o];
                }
            }
        });
    }
    cpu::gemm(false, true, rows, out, in, 1.0f, x, w, b || residual ? 1.0f : 0.0f, y);
}

void linearRowsBwd(const float* x, const float* dy, int64_t rows, int64_t in, int64_t out,
                   const float* w, float* dx, float* dw, float* db, bool overwriteDx) {
    if (dx) cpu::gemm(false, false, rows, in, out, 1.0f, dy, w, overwriteDx ? 0.0f : 1.0f, dx);
    if (dw) cpu::gemm(true, false, out, in, rows, 1.0f, dy, x, 1.0f, dw);
    if (!db) return;
    // Column ranges per thread, each column summed in row order: the same on any thread count.
    cpu::parallelFor(out, 16, [&](int64_t o0, int64_t o1) {
        addColumnSums(dy + o0, rows, o1 - o0, out, db + o0);
    });
}

// ---- multi-head attention ----
//
// Each (sample, head) pair is one task: its scores, softmax and mixing run back to back while
// its tiles are in cache, reading the heads in place from the projections' rows (leading
// dimension E). Tasks write disjoint parts of every result, so any thread count gives the same
// bits.

void mhaFwd(const MhaShape& sh, const float* x, const float* memory, const MhaWeights& w,
            bool causal, const Dropout& drop, const MhaSaved& saved, float* out,
            const float* residual) {
    const int64_t N = sh.n, T = sh.t, S = sh.s, E = sh.e, H = sh.h, Dh = sh.headDim();
    const float* kvSource = memory ? memory : x;  // (N, S, E)
    // The rows q, k and v of in_proj_weight project into three separate tensors.
    linearRowsFwd(x, N * T, E, E, w.inW, w.inB, saved.q);
    linearRowsFwd(kvSource, N * S, E, E, w.inW + E * E, w.inB ? w.inB + E : nullptr, saved.k);
    linearRowsFwd(kvSource, N * S, E, E, w.inW + 2 * E * E, w.inB ? w.inB + 2 * E : nullptr,
                  saved.v);
    const float scale = 1.0f / std::sqrt(static_cast<float>(Dh));
    cpu::parallelFor(N * H, 1, [&](int64_t i0, int64_t i1) {
        for (int64_t bh = i0; bh < i1; ++bh) {
            const int64_t b = bh / H, hd = bh % H;
            const float* q = saved.q + b * T * E + hd * Dh;  // (T, Dh), leading dim E
            const float* k = saved.k + b * S * E + hd * Dh;  // (S, Dh), leading dim E
            const float* v = saved.v + b * S * E + hd * Dh;  // (S, Dh), leading dim E
            float* probs = saved.attention + bh * T * S;     // (T, S)
            // scores = q k^T / sqrt(Dh), then probabilities in place
            cpu::gemmHere(false, true, T, S, Dh, scale, q, E, k, E, 0.0f, probs, S);
            for (int64_t i = 0; i < T; ++i) {
                softmaxRow(probs + i * S, causal ? std::min(i + 1, S) : S, S);
            }
            const float* mix = probs;
            if (drop.enabled) {
                float* dropped = scratch(Scratch::MhaHeadDrop, T * S);  // (T, S)
                std::copy(probs, probs + T * S, dropped);
                drop.applyAt(dropped, T * S, bh * T * S);
                mix = dropped;
            }
            cpu::gemmHere(false, false, T, Dh, S, 1.0f, mix, S, v, E, 0.0f,
                    saved.context + b * T * E + hd * Dh, E);
        }
    });
    linearRowsFwd(saved.context, N * T, E, E, w.outW, w.outB, out, residual);
}

void mhaBwd(const MhaShape& sh, const float* x, const float* memory, const MhaWeights& w,
            const Dropout& drop, const MhaSaved& saved, const float* dout, float* dx,
            float* dmemory, const MhaGrads& g, bool overwriteDx) {
    const int64_t N = sh.n, T = sh.t, S = sh.s, E = sh.e, H = sh.h, Dh = sh.headDim();
    float* dcontext = scratch(Scratch::MhaDContext, N * T * E);  // (N, T, E)
    linearRowsBwd(saved.context, dout, N * T, E, E, w.outW, dcontext, g.outW, g.outB, true);

    // Self-attention: dq, dk, dv side by side as the rows of one (N, T, 3E) tensor, so that
    // in_proj's backward is one product. Cross-attention: dq (N, T, E) and dk, dv (N, S, 2E).
    float* dq = nullptr;
    float* dk = nullptr;
    int64_t ldq = E, ldkv = 2 * E;
    if (!memory) {
        dq = scratch(Scratch::MhaDQkv, N * T * 3 * E);
        dk = dq + E;
        ldq = ldkv = 3 * E;
    } else {
        dq = scratch(Scratch::MhaDQkv, N * T * E);
        dk = scratch(Scratch::MhaDKv, N * S * 2 * E);
    }
    float* dv = dk + E;
    const float scale = 1.0f / std::sqrt(static_cast<float>(Dh));
    // in_proj's bias gradient: each task sums its own columns of dq, dk, dv over its sample's
    // rows while they are in cache, into (N, 3E) partials added in sample order afterwards.
    float* biasParts = g.inB ? scratch(Scratch::MhaBias, N * 3 * E) : nullptr;
    cpu::parallelFor(N * H, 1, [&](int64_t i0, int64_t i1) {
        float* dp = scratch(Scratch::MhaHead, T * S);  // (T, S)
        for (int64_t bh = i0; bh < i1; ++bh) {
            const int64_t b = bh / H, hd = bh % H;
            const float* q = saved.q + b * T * E + hd * Dh;       // (T, Dh), leading dim E
            const float* k = saved.k + b * S * E + hd * Dh;       // (S, Dh), leading dim E
            const float* v = saved.v + b * S * E + hd * Dh;       // (S, Dh), leading dim E
            const float* dctx = dcontext + b * T * E + hd * Dh;  // (T, Dh), leading dim E
            const float* probs = saved.attention + bh * T * S;   // (T, S)
            const float* mix = probs;  // what forward multiplied with v
            if (drop.enabled) {
                float* dropped = scratch(Scratch::MhaHeadDrop, T * S);  // (T, S)
                std::copy(probs, probs + T * S, dropped);
                drop.applyAt(dropped, T * S, bh * T * S);
                mix = dropped;
            }
            // dv = mix^T dctx; dp = dctx v^T
            cpu::gemmHere(true, false, S, Dh, T, 1.0f, mix, S, dctx, E, 0.0f,
                    dv + b * S * ldkv + hd * Dh, ldkv);
            cpu::gemmHere(false, true, T, S, Dh, 1.0f, dctx, E, v, E, 0.0f, dp, S);
            drop.applyAt(dp, T * S, bh * T * S);  // the same mask and scale as forward
            for (int64_t i = 0; i < T; ++i) softmaxRowBwd(probs + i * S, dp + i * S, S);
            // dq = dS k / sqrt(Dh); dk = dS^T q / sqrt(Dh)
            cpu::gemmHere(false, false, T, Dh, S, scale, dp, S, k, E, 0.0f,
                    dq + b * T * ldq + hd * Dh, ldq);
            cpu::gemmHere(true, false, S, Dh, T, scale, dp, S, q, E, 0.0f,
                    dk + b * S * ldkv + hd * Dh, ldkv);
            if (!biasParts) continue;
            float* part = biasParts + b * 3 * E + hd * Dh;  // (3, E) of this sample, head hd
            for (int which = 0; which < 3; ++which) {
                float* sum = part + which * E;  // (Dh)
                std::fill(sum, sum + Dh, 0.0f);
            }
            addColumnSums(dq + b * T * ldq + hd * Dh, T, Dh, ldq, part);
            addColumnSums(dk + b * S * ldkv + hd * Dh, S, Dh, ldkv, part + E);
            addColumnSums(dv + b * S * ldkv + hd * Dh, S, Dh, ldkv, part + 2 * E);
        }
    });
    if (biasParts) {
        for (int64_t b = 0; b < N; ++b) {
            for (int64_t j = 0; j < 3 * E; ++j) g.inB[j] += biasParts[b * 3 * E + j];
        }
    }

    if (!memory) {
        linearRowsBwd(x, dq, N * T, E, 3 * E, w.inW, dx, g.inW, nullptr, overwriteDx);
    } else {
        linearRowsBwd(x, dq, N * T, E, E, w.inW, dx, g.inW, nullptr, overwriteDx);
        linearRowsBwd(memory, dk, N * S, E, 2 * E, w.inW + E * E, dmemory,
                      g.inW ? g.inW + E * E : nullptr, nullptr);
    }
}

}  // namespace strata::attn

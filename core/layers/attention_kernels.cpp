#include "core/layers/attention_kernels.h"

#include <algorithm>
#include <cmath>
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

void Dropout::apply(float* x, int64_t n) const {
    if (!enabled) return;
    const float scale = 1.0f / (1.0f - p);
    for (int64_t i = 0; i < n; ++i) {
        x[i] = cpu::uniform01(seed, static_cast<uint64_t>(i)) >= p ? x[i] * scale : 0.0f;
    }
}

// ---- layer norm ----

namespace {
// Rows per thread at least, for the row kernels below (a row is d or s floats).
int64_t rowGrain(int64_t rowLength) {
    return std::max<int64_t>(1, 8192 / std::max<int64_t>(1, rowLength));
}
}  // namespace

void layerNormRowsFwd(const float* x, int64_t rows, int64_t d, float eps, const float* gamma,
                      const float* beta, float* y, float* mean, float* rstd) {
    cpu::parallelFor(rows, rowGrain(d), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            const float* xr = x + r * d;
            float* yr = y + r * d;
            double sum = 0;
            for (int64_t j = 0; j < d; ++j) sum += xr[j];
            const double mu = sum / static_cast<double>(d);
            double sq = 0;
            for (int64_t j = 0; j < d; ++j) sq += (xr[j] - mu) * (xr[j] - mu);
            // Biased variance, as nn.LayerNorm.
            const double rs = 1.0 / std::sqrt(sq / static_cast<double>(d) + eps);
            mean[r] = static_cast<float>(mu);
            rstd[r] = static_cast<float>(rs);
            for (int64_t j = 0; j < d; ++j) {
                float v = static_cast<float>((xr[j] - mu) * rs);
                if (gamma) v = v * gamma[j] + beta[j];
                yr[j] = v;
            }
        }
    });
}

void layerNormRowsBwd(const float* x, const float* dy, int64_t rows, int64_t d,
                      const float* gamma, const float* mean, const float* rstd, float* dx,
                      float* dgamma, float* dbeta) {
    // dgamma and dbeta sum over rows: threads take column ranges, each sum in row order.
    if (dgamma || dbeta) {
        cpu::parallelFor(d, 16, [&](int64_t j0, int64_t j1) {
            for (int64_t r = 0; r < rows; ++r) {
                const float* xr = x + r * d;
                const float* dyr = dy + r * d;
                const float mu = mean[r], rs = rstd[r];
                for (int64_t j = j0; j < j1; ++j) {
                    if (dgamma) dgamma[j] += dyr[j] * ((xr[j] - mu) * rs);
                    if (dbeta) dbeta[j] += dyr[j];
                }
            }
        });
    }
    if (!dx) return;
    cpu::parallelFor(rows, rowGrain(d), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            const float* xr = x + r * d;
            const float* dyr = dy + r * d;
            const float mu = mean[r], rs = rstd[r];
            double sumG = 0, sumGX = 0;  // sums of dxhat and dxhat * xhat over the row
            for (int64_t j = 0; j < d; ++j) {
                const float xhat = (xr[j] - mu) * rs;
                const float g = gamma ? dyr[j] * gamma[j] : dyr[j];
                sumG += g;
                sumGX += g * xhat;
            }
            const float meanG = static_cast<float>(sumG / static_cast<double>(d));
            const float meanGX = static_cast<float>(sumGX / static_cast<double>(d));
            float* dxr = dx + r * d;
            for (int64_t j = 0; j < d; ++j) {
                const float xhat = (xr[j] - mu) * rs;
                const float g = gamma ? dyr[j] * gamma[j] : dyr[j];
                dxr[j] += rs * (g - meanG - xhat * meanGX);
            }
        }
    });
}

// ---- softmax ----

void softmaxRowsFwd(float* scores, int64_t blocks, int64_t t, int64_t s, bool causal) {
    cpu::parallelFor(blocks * t, rowGrain(s), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            const int64_t i = r % t;  // the query position within its block
            float* row = scores + r * s;
            const int64_t valid = causal ? std::min(i + 1, s) : s;
            float mx = -std::numeric_limits<float>::infinity();
            for (int64_t j = 0; j < valid; ++j) mx = std::max(mx, row[j]);
            double sum = 0;
            for (int64_t j = 0; j < valid; ++j) {
                row[j] = std::exp(row[j] - mx);
                sum += row[j];
            }
            const float inv = static_cast<float>(1.0 / sum);
            for (int64_t j = 0; j < valid; ++j) row[j] *= inv;
            for (int64_t j = valid; j < s; ++j) row[j] = 0.0f;
        }
    });
}

void softmaxRowsBwd(const float* probs, float* dprobs, int64_t blocks, int64_t t, int64_t s) {
    cpu::parallelFor(blocks * t, rowGrain(s), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            const float* p = probs + r * s;
            float* dp = dprobs + r * s;
            double dot = 0;
            for (int64_t j = 0; j < s; ++j) dot += double(dp[j]) * p[j];
            for (int64_t j = 0; j < s; ++j) dp[j] = p[j] * (dp[j] - static_cast<float>(dot));
        }
    });
}

// ---- linear ----

void linearRowsFwd(const float* x, int64_t rows, int64_t in, int64_t out, const float* w,
                   const float* b, float* y) {
    cpu::gemm(false, true, rows, out, in, 1.0f, x, w, 0.0f, y);
    if (!b) return;
    for (int64_t r = 0; r < rows; ++r) {
        for (int64_t o = 0; o < out; ++o) y[r * out + o] += b[o];
    }
}

void linearRowsBwd(const float* x, const float* dy, int64_t rows, int64_t in, int64_t out,
                   const float* w, float* dx, float* dw, float* db) {
    if (dx) cpu::gemm(false, false, rows, in, out, 1.0f, dy, w, 1.0f, dx);
    if (dw) cpu::gemm(true, false, out, in, rows, 1.0f, dy, x, 1.0f, dw);
    if (!db) return;
    for (int64_t r = 0; r < rows; ++r) {
        for (int64_t o = 0; o < out; ++o) db[o] += dy[r * out + o];
    }
}

// ---- multi-head attention ----

namespace {

// Copies columns [col, col + E) of rows laid out (N, L, stride) into head-major (N, H, L, Dh), so
// that each (sample, head) pair is one contiguous matrix for the batched products.
void splitHeads(const float* src, int64_t stride, int64_t col, int64_t n, int64_t l, int64_t h,
                int64_t dh, float* dst) {
    for (int64_t b = 0; b < n; ++b) {
        for (int64_t hh = 0; hh < h; ++hh) {
            for (int64_t i = 0; i < l; ++i) {
                const float* s = src + (b * l + i) * stride + col + hh * dh;
                float* d = dst + ((b * h + hh) * l + i) * dh;
                std::copy(s, s + dh, d);
            }
        }
    }
}

// Inverse of splitHeads: writes head-major (N, H, L, Dh) into columns [col, col + E) of rows.
void mergeHeads(const float* src, int64_t n, int64_t l, int64_t h, int64_t dh, float* dst,
                int64_t stride, int64_t col) {
    for (int64_t b = 0; b < n; ++b) {
        for (int64_t hh = 0; hh < h; ++hh) {
            for (int64_t i = 0; i < l; ++i) {
                const float* s = src + ((b * h + hh) * l + i) * dh;
                std::copy(s, s + dh, dst + (b * l + i) * stride + col + hh * dh);
            }
        }
    }
}

}  // namespace

void mhaFwd(const MhaShape& sh, const float* x, const float* memory, const MhaWeights& w,
            bool causal, const Dropout& drop, const MhaSaved& saved, float* out) {
    const int64_t N = sh.n, T = sh.t, S = sh.s, E = sh.e, H = sh.h, Dh = sh.headDim();
    if (!memory) {
        std::vector<float> qkv(static_cast<size_t>(N * T * 3 * E));  // (N, T, 3E)
        linearRowsFwd(x, N * T, E, 3 * E, w.inW, w.inB, qkv.data());
        splitHeads(qkv.data(), 3 * E, 0, N, T, H, Dh, saved.q);
        splitHeads(qkv.data(), 3 * E, E, N, T, H, Dh, saved.k);
        splitHeads(qkv.data(), 3 * E, 2 * E, N, T, H, Dh, saved.v);
    } else {
        std::vector<float> q(static_cast<size_t>(N * T * E));       // (N, T, E)
        std::vector<float> kv(static_cast<size_t>(N * S * 2 * E));  // (N, S, 2E)
        linearRowsFwd(x, N * T, E, E, w.inW, w.inB, q.data());
        // Rows E..3E of in_proj_weight are the key and value projections, contiguous.
        linearRowsFwd(memory, N * S, E, 2 * E, w.inW + E * E, w.inB ? w.inB + E : nullptr,
                      kv.data());
        splitHeads(q.data(), E, 0, N, T, H, Dh, saved.q);
        splitHeads(kv.data(), 2 * E, 0, N, S, H, Dh, saved.k);
        splitHeads(kv.data(), 2 * E, E, N, S, H, Dh, saved.v);
    }
    const float scale = 1.0f / std::sqrt(static_cast<float>(Dh));
    // scores (N*H, T, S) = q k^T / sqrt(Dh), then probabilities in place
    cpu::gemmBatched(false, true, N * H, T, S, Dh, scale, saved.q, T * Dh, saved.k, S * Dh, 0.0f,
                     saved.attention, T * S);
    softmaxRowsFwd(saved.attention, N * H, T, S, causal);
    const float* probs = saved.attention;
    std::vector<float> dropped;  // (N, H, T, S) when dropout is on
    if (drop.enabled) {
        dropped.assign(saved.attention, saved.attention + N * H * T * S);
        drop.apply(dropped.data(), N * H * T * S);
        probs = dropped.data();
    }
    std::vector<float> ctx(static_cast<size_t>(N * H * T * Dh));  // (N, H, T, Dh)
    cpu::gemmBatched(false, false, N * H, T, Dh, S, 1.0f, probs, T * S, saved.v, S * Dh, 0.0f,
                     ctx.data(), T * Dh);
    mergeHeads(ctx.data(), N, T, H, Dh, saved.context, E, 0);
    linearRowsFwd(saved.context, N * T, E, E, w.outW, w.outB, out);
}

void mhaBwd(const MhaShape& sh, const float* x, const float* memory, const MhaWeights& w,
            const Dropout& drop, const MhaSaved& saved, const float* dout, float* dx,
            float* dmemory, const MhaGrads& g) {
    const int64_t N = sh.n, T = sh.t, S = sh.s, E = sh.e, H = sh.h, Dh = sh.headDim();
    const int64_t P = N * H * T * S;
    std::vector<float> dcontext(static_cast<size_t>(N * T * E), 0.0f);  // (N, T, E)
    linearRowsBwd(saved.context, dout, N * T, E, E, w.outW, dcontext.data(), g.outW, g.outB);
    std::vector<float> dctx(static_cast<size_t>(N * H * T * Dh));  // (N, H, T, Dh)
    splitHeads(dcontext.data(), E, 0, N, T, H, Dh, dctx.data());

    const float* probs = saved.attention;
    std::vector<float> dropped;  // (N, H, T, S): the probabilities forward multiplied with v
    if (drop.enabled) {
        dropped.assign(saved.attention, saved.attention + P);
        drop.apply(dropped.data(), P);
        probs = dropped.data();
    }
    std::vector<float> dv(static_cast<size_t>(N * H * S * Dh));  // (N, H, S, Dh)
    cpu::gemmBatched(true, false, N * H, S, Dh, T, 1.0f, probs, T * S, dctx.data(), T * Dh, 0.0f,
                     dv.data(), S * Dh);
    std::vector<float> dp(static_cast<size_t>(P));  // (N, H, T, S)
    cpu::gemmBatched(false, true, N * H, T, S, Dh, 1.0f, dctx.data(), T * Dh, saved.v, S * Dh,
                     0.0f, dp.data(), T * S);
    drop.apply(dp.data(), P);  // the same mask and scale as forward
    softmaxRowsBwd(saved.attention, dp.data(), N * H, T, S);
    const float scale = 1.0f / std::sqrt(static_cast<float>(Dh));
    std::vector<float> dq(static_cast<size_t>(N * H * T * Dh));  // (N, H, T, Dh)
    std::vector<float> dk(static_cast<size_t>(N * H * S * Dh));  // (N, H, S, Dh)
    cpu::gemmBatched(false, false, N * H, T, Dh, S, scale, dp.data(), T * S, saved.k, S * Dh, 0.0f,
                     dq.data(), T * Dh);
    cpu::gemmBatched(true, false, N * H, S, Dh, T, scale, dp.data(), T * S, saved.q, T * Dh, 0.0f,
                     dk.data(), S * Dh);

    if (!memory) {
        std::vector<float> dqkv(static_cast<size_t>(N * T * 3 * E));  // (N, T, 3E)
        mergeHeads(dq.data(), N, T, H, Dh, dqkv.data(), 3 * E, 0);
        mergeHeads(dk.data(), N, T, H, Dh, dqkv.data(), 3 * E, E);
        mergeHeads(dv.data(), N, T, H, Dh, dqkv.data(), 3 * E, 2 * E);
        linearRowsBwd(x, dqkv.data(), N * T, E, 3 * E, w.inW, dx, g.inW, g.inB);
    } else {
        std::vector<float> dqr(static_cast<size_t>(N * T * E));       // (N, T, E)
        std::vector<float> dkv(static_cast<size_t>(N * S * 2 * E));   // (N, S, 2E)
        mergeHeads(dq.data(), N, T, H, Dh, dqr.data(), E, 0);
        mergeHeads(dk.data(), N, S, H, Dh, dkv.data(), 2 * E, 0);
        mergeHeads(dv.data(), N, S, H, Dh, dkv.data(), 2 * E, E);
        linearRowsBwd(x, dqr.data(), N * T, E, E, w.inW, dx, g.inW, g.inB);
        linearRowsBwd(memory, dkv.data(), N * S, E, 2 * E, w.inW + E * E, dmemory,
                      g.inW ? g.inW + E * E : nullptr, g.inB ? g.inB + E : nullptr);
    }
}

}  // namespace strata::attn

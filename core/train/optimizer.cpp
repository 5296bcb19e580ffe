#include "core/train/optimizer.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/engine/cpu_math.h"

namespace strata {

namespace {

// The loops below take their scalars as arguments and their arrays as restrict pointers: read
// through a lambda's captures, every store to p could (for the compiler) change lr or mu, which
// kept the loop scalar.
void sgdRange(float* __restrict p, const float* __restrict g, int64_t begin, int64_t end,
              float lr, float wd) {
    for (int64_t i = begin; i < end; ++i) p[i] -= lr * (g[i] + wd * p[i]);
}

void sgdMomentumRange(float* __restrict p, const float* __restrict g, float* __restrict buf,
                      int64_t begin, int64_t end, float lr, float wd, float mu, bool first,
                      bool nesterov) {
    // PyTorch starts the buffer at the first gradient (dampening 0), whatever the buffer held.
    if (first) {
        for (int64_t i = begin; i < end; ++i) {
            const float d = g[i] + wd * p[i];
            buf[i] = d;
            p[i] -= lr * (nesterov ? d + mu * d : d);
        }
        return;
    }
    const float m = mu;
    if (nesterov) {
        for (int64_t i = begin; i < end; ++i) {
            const float d = g[i] + wd * p[i];
            const float b = m * buf[i] + d;
            buf[i] = b;
            p[i] -= lr * (d + mu * b);
        }
    } else if (wd == 0.0f) {
        for (int64_t i = begin; i < end; ++i) {
            const float b = m * buf[i] + g[i];
            buf[i] = b;
            p[i] -= lr * b;
        }
    } else {
        for (int64_t i = begin; i < end; ++i) {
            const float d = g[i] + wd * p[i];
            const float b = m * buf[i] + d;
            buf[i] = b;
            p[i] -= lr * b;
        }
    }
}

void adamRange(float* __restrict p, const float* __restrict g, float* __restrict m,
               float* __restrict v, int64_t begin, int64_t end, float b1, float b2,
               float stepSize, float bc2Sqrt, float eps, float shrink, float gradDecay) {
    for (int64_t i = begin; i < end; ++i) {
        const float d = g[i] + gradDecay * p[i];
        const float pi = p[i] * shrink;
        const float mi = b1 * m[i] + (1.0f - b1) * d;
        const float vi = b2 * v[i] + (1.0f - b2) * d * d;
        m[i] = mi;
        v[i] = vi;
        const float denom = std::sqrt(vi) / bc2Sqrt + eps;
        p[i] = pi - stepSize * mi / denom;
    }
}

}  // namespace

// The update is elementwise, so the arena is cut into chunks that run on the CPU kernels'
// threads; each loop body is branch-free per element so that it vectorises.
void optimizerUpdate(const OptimizerSettings& o, float lr, int64_t step, float* p, const float* g,
                     float* state, int64_t count) {
    const float wd = static_cast<float>(o.weightDecay);
    const float eps = static_cast<float>(o.eps);
    // Chunks the threads claim one by one: a thread that loses its core holds back one chunk.
    constexpr int64_t kChunk = 1 << 14;
    if (o.name == "sgd") {
        const float mu = static_cast<float>(o.momentum);
        float* buf = state;  // momentum_buffer (count), when momentum > 0
        const bool nesterov = o.nesterov;
        const bool first = step == 1;
        cpu::parallelChunks(count, kChunk, [=](int64_t begin, int64_t end) {
            if (mu <= 0) {
                sgdRange(p, g, begin, end, lr, wd);
            } else {
                sgdMomentumRange(p, g, buf, begin, end, lr, wd, mu, first, nesterov);
            }
        });
    } else if (o.name == "adam" || o.name == "adamw") {
        const bool decoupled = o.name == "adamw";
        const float b1 = static_cast<float>(o.beta1), b2 = static_cast<float>(o.beta2);
        const double bc1 = 1.0 - std::pow(o.beta1, static_cast<double>(step));
        const double bc2 = 1.0 - std::pow(o.beta2, static_cast<double>(step));
        const float stepSize = static_cast<float>(lr / bc1);
        const float bc2Sqrt = static_cast<float>(std::sqrt(bc2));
        // AdamW decays the weight itself; Adam adds wd * p to the gradient.
        const float shrink = decoupled ? 1.0f - lr * wd : 1.0f;
        const float gradDecay = decoupled ? 0.0f : wd;
        float* m = state;          // exp_avg (count)
        float* v = state + count;  // exp_avg_sq (count)
        cpu::parallelChunks(count, kChunk, [=](int64_t begin, int64_t end) {
            adamRange(p, g, m, v, begin, end, b1, b2, stepSize, bc2Sqrt, eps, shrink, gradDecay);
        });
    } else if (o.name == "rmsprop") {
        const float alpha = static_cast<float>(o.alpha), mu = static_cast<float>(o.momentum);
        float* sq = state;           // square_avg (count)
        float* buf = state + count;  // momentum_buffer (count), when momentum > 0
        cpu::parallelChunks(count, kChunk, [=](int64_t begin, int64_t end) {
            for (int64_t i = begin; i < end; ++i) {
                const float d = g[i] + wd * p[i];
                const float s = alpha * sq[i] + (1.0f - alpha) * d * d;
                sq[i] = s;
                const float avg = std::sqrt(s) + eps;
                if (mu > 0) {
                    buf[i] = mu * buf[i] + d / avg;
                    p[i] -= lr * buf[i];
                } else {
                    p[i] -= lr * d / avg;
                }
            }
        });
    }
}

double scheduledLearningRate(const ScheduleSettings& s, double base, int64_t step,
                             int64_t stepsPerEpoch, int64_t totalSteps) {
    const int64_t warm = std::max<int64_t>(0, s.warmupSteps);
    const double factor =
        step < warm ? static_cast<double>(step + 1) / static_cast<double>(warm) : 1.0;
    const int64_t epoch = step / std::max<int64_t>(1, stepsPerEpoch);
    double lr = base;
    if (s.kind == "step") {
        lr =
            base * std::pow(s.gamma, static_cast<double>(epoch / std::max<int64_t>(1, s.stepSize)));
    } else if (s.kind == "exponential") {
        lr = base * std::pow(s.gamma, static_cast<double>(epoch));
    } else if (s.kind == "cosine") {
        const int64_t span = std::max<int64_t>(1, totalSteps - warm);
        const double t =
            std::clamp(static_cast<double>(step - warm), 0.0, static_cast<double>(span));
        lr = s.minLearningRate +
             (base - s.minLearningRate) *
                 (1.0 + std::cos(std::numbers::pi * t / static_cast<double>(span))) / 2.0;
    }
    return lr * factor;
}

}  // namespace strata

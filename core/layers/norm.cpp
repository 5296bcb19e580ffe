// batch_norm (layer_norm lives with the transformer layers in attention.cpp).
#include <cmath>

#include "core/layers/registry.h"

namespace strata {

namespace {

// ---- batch_norm: PyTorch nn.BatchNorm1d for (N, C) and (N, C, L), nn.BatchNorm2d for
// (N, C, H, W). Statistics per channel over the batch and every position. ----

Result<LayerInfo> batchNormInfer(const LayerContext& c) {
    const Shape& x = c.shape(0);
    if (!x.isBatched() || x.rank() < 2 || x.rank() > 4) {
        return fail("expects an input (N, C), (N, C, L) or (N, C, H, W) but " + c.gives(0));
    }
    if (c.inputs[0].type->dtype != DType::Float32) {
        return fail("expects float input but " + c.gives(0) + " of integers; add an embedding");
    }
    const int64_t channels = x[1];
    LayerInfo info;
    info.outputs.push_back({x, DType::Float32});
    info.weights.push_back({"weight", {channels}, Init::ones()});
    info.weights.push_back({"bias", {channels}, Init::zeros()});
    info.weights.push_back({"running_mean", {channels}, Init::zeros(), false});
    info.weights.push_back({"running_var", {channels}, Init::ones(), false});
    // The mean and 1/sqrt(var + eps) that forward normalised with (batch statistics in training,
    // running ones in eval): backward needs exactly those.
    info.aux.push_back({"mean", Shape{channels}});
    info.aux.push_back({"invstd", Shape{channels}});
    info.flops = 4 * x.numel();
    return info;
}

struct BnGeom {
    int64_t n, c, inner;  // x viewed as (N, C, inner)
    int64_t count() const { return n * inner; }  // values per channel
};

BnGeom bnGeom(const Shape& x) {
    int64_t inner = 1;
    for (int i = 2; i < x.rank(); ++i) inner *= x[i];
    return {x[0], x[1], inner};
}

void batch_norm_fwd(const OpContext& c) {
    const BnGeom g = bnGeom(c.inputs[0].shape);
    const float* x = c.inputs[0].data;         // (N, C, inner)
    float* y = c.outputs[0].data;              // (N, C, inner)
    const float* gamma = c.weights[0].data;    // (C)
    const float* beta = c.weights[1].data;     // (C)
    float* runningMean = c.weights[2].data;    // (C)
    float* runningVar = c.weights[3].data;     // (C)
    float* mean = c.aux[0].data;               // (C)
    float* invstd = c.aux[1].data;             // (C)
    const double eps = getFloat(c.params, "eps");
    const double momentum = getFloat(c.params, "momentum");
    for (int64_t ch = 0; ch < g.c; ++ch) {
        double mu, var;
        if (c.training) {
            double s = 0;
            for (int64_t n = 0; n < g.n; ++n) {
                const float* row = x + (n * g.c + ch) * g.inner;
                for (int64_t i = 0; i < g.inner; ++i) s += row[i];
            }
            mu = s / static_cast<double>(g.count());
            double ss = 0;
            for (int64_t n = 0; n < g.n; ++n) {
                const float* row = x + (n * g.c + ch) * g.inner;
                for (int64_t i = 0; i < g.inner; ++i) ss += (row[i] - mu) * (row[i] - mu);
            }
            var = ss / static_cast<double>(g.count());  // biased: what normalises
            // PyTorch tracks the unbiased variance. With a single value per channel it refuses
            // to train; here the running variance then decays towards 0 instead of dividing by 0.
            const double unbiased =
                g.count() > 1 ? ss / static_cast<double>(g.count() - 1) : 0.0;
            runningMean[ch] =
                static_cast<float>((1 - momentum) * runningMean[ch] + momentum * mu);
            runningVar[ch] =
                static_cast<float>((1 - momentum) * runningVar[ch] + momentum * unbiased);
        } else {
            mu = runningMean[ch];
            var = runningVar[ch];
        }
        const double inv = 1.0 / std::sqrt(var + eps);
        mean[ch] = static_cast<float>(mu);
        invstd[ch] = static_cast<float>(inv);
        const float scale = static_cast<float>(gamma[ch] * inv);
        const float shift = static_cast<float>(beta[ch] - mu * gamma[ch] * inv);
        for (int64_t n = 0; n < g.n; ++n) {
            const float* row = x + (n * g.c + ch) * g.inner;
            float* out = y + (n * g.c + ch) * g.inner;
            for (int64_t i = 0; i < g.inner; ++i) out[i] = row[i] * scale + shift;
        }
    }
}

// With xhat = (x - mean) * invstd and y = gamma * xhat + beta:
// eval (statistics are constants): dx = dy * gamma * invstd;
// train (statistics depend on x):  dx = gamma * invstd * (dy - mean(dy) - xhat * mean(dy * xhat)).
void batch_norm_bwd(const OpContext& c) {
    const BnGeom g = bnGeom(c.inputs[0].shape);
    const float* x = c.inputs[0].data;         // (N, C, inner)
    const float* dy = c.gradOutputs[0].data;   // (N, C, inner)
    const float* gamma = c.weights[0].data;    // (C)
    const float* mean = c.aux[0].data;         // (C)
    const float* invstd = c.aux[1].data;       // (C)
    float* dx = c.gradInputs[0].data;          // (N, C, inner), may be null
    float* dgamma = c.gradWeights[0].data;     // (C)
    float* dbeta = c.gradWeights[1].data;      // (C)
    for (int64_t ch = 0; ch < g.c; ++ch) {
        const double mu = mean[ch], inv = invstd[ch];
        double sumDy = 0, sumDyXhat = 0;
        for (int64_t n = 0; n < g.n; ++n) {
            const int64_t base = (n * g.c + ch) * g.inner;
            for (int64_t i = 0; i < g.inner; ++i) {
                sumDy += dy[base + i];
                sumDyXhat += dy[base + i] * (x[base + i] - mu) * inv;
            }
        }
        dgamma[ch] += static_cast<float>(sumDyXhat);
        dbeta[ch] += static_cast<float>(sumDy);
        if (!dx) continue;
        const double scale = gamma[ch] * inv;
        const double count = static_cast<double>(g.count());
        const double meanDy = c.training ? sumDy / count : 0.0;
        const double meanDyXhat = c.training ? sumDyXhat / count : 0.0;
        for (int64_t n = 0; n < g.n; ++n) {
            const int64_t base = (n * g.c + ch) * g.inner;
            for (int64_t i = 0; i < g.inner; ++i) {
                const double xhat = (x[base + i] - mu) * inv;
                const double d = dy[base + i] - meanDy - xhat * meanDyXhat;
                dx[base + i] += static_cast<float>(scale * d);
            }
        }
    }
}

}  // namespace

void registerNormLayers(LayerRegistry& r) {
    r.add({
        .id = "batch_norm",
        .label = "Batch Norm",
        .category = "Normalization",
        .doc = "Normalises each channel with batch statistics in training and running statistics "
               "in eval, as PyTorch nn.BatchNorm1d/2d.",
        .inputs = {{"in", "(N, C), (N, C, L) or (N, C, H, W)"}},
        .outputs = {{"out", "same shape"}},
        .params = {floatParam("eps", 1e-5, 1e-12, 1.0, "added to the variance for stability"),
                   floatParam("momentum", 0.1, 0.0, 1.0,
                              "weight of the batch statistics in the running statistics")},
        .infer = batchNormInfer,
        .forward = batch_norm_fwd,
        .backward = batch_norm_bwd,
    });
}

}  // namespace strata

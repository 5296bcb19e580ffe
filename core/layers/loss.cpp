// Losses: cross_entropy, mse, bce_with_logits. Each reduces to one scalar (shape (), "loss") with
// PyTorch's default mean reduction; backward scales by the scalar's incoming gradient.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/layers/registry.h"

namespace strata {

namespace {

std::string givesTyped(const LayerContext& c, size_t i) {
    return c.gives(i) + (c.inputs[i].type->dtype == DType::Int32 ? " of integers" : " of floats");
}

LayerInfo scalarLoss(int64_t flops) {
    LayerInfo info;
    info.outputs.push_back({Shape{}, DType::Float32});
    info.flops = flops;
    return info;
}

// ---- cross_entropy: PyTorch F.cross_entropy(input, target, ignore_index, label_smoothing) ----
//
// Logits (N, C) or (N, T, C) against class ids (N) or (N, T). With smoothing e the target
// distribution is (1 - e) one-hot + e / C uniform; the mean runs over targets != ignore_index.

Result<LayerInfo> crossEntropyInfer(const LayerContext& c) {
    const Shape& x = c.shape(0);
    if (!x.isBatched() || (x.rank() != 2 && x.rank() != 3)) {
        return fail("expects logits (N, C) or (N, T, C) on 'input' but " + c.gives(0));
    }
    if (c.inputs[0].type->dtype != DType::Float32) {
        return fail("expects float logits on 'input' but " + givesTyped(c, 0) +
                    "; put a linear layer before the loss");
    }
    std::vector<int64_t> want = x.dims();
    want.pop_back();
    const Shape targetShape(want);
    if (c.inputs[1].type->dtype != DType::Int32) {
        return fail("expects integer class ids " + targetShape.str() + " on 'target' but " +
                    givesTyped(c, 1) + "; bind the target to an int32 input");
    }
    if (c.shape(1) != targetShape) {
        return fail("expects targets " + targetShape.str() + " to match the logits " + x.str() +
                    " but " + c.gives(1));
    }
    return scalarLoss(x.numel() * 4);
}

struct CeSizes {
    int64_t rows = 0;     // N*T: one class distribution each
    int64_t classes = 0;  // C
};

CeSizes ceSizes(const OpContext& c) {
    const int64_t classes = c.inputs[0].shape[-1];
    return {c.inputs[0].numel() / classes, classes};
}

// A target outside [0, C) that is not ignore_index cannot be scored; it counts as ignored here
// (the trainer checks label ranges before training and names the offending sample).
bool ceCounts(int64_t t, int64_t classes, int64_t ignoreIndex) {
    return t != ignoreIndex && t >= 0 && t < classes;
}

void cross_entropy_fwd(const OpContext& c) {
    const TensorView& x = c.inputs[0];  // (R, C) with R = N or N*T
    const TensorView& y = c.inputs[1];  // (R) class ids held as exact floats
    const auto [rows, classes] = ceSizes(c);
    const int64_t ignoreIndex = getInt(c.params, "ignore_index");
    const double eps = getFloat(c.params, "label_smoothing");
    double total = 0;
    int64_t counted = 0;
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t t = std::lround(y[r]);
        if (!ceCounts(t, classes, ignoreIndex)) continue;
        const float* row = x.data + r * classes;  // (C)
        const float maxv = *std::max_element(row, row + classes);
        double sumExp = 0, sumLogits = 0;
        for (int64_t k = 0; k < classes; ++k) {
            sumExp += std::exp(double(row[k]) - maxv);
            sumLogits += row[k];
        }
        const double logZ = maxv + std::log(sumExp);
        // -log p[t] and the mean of -log p over classes (the uniform part of the smoothed target)
        const double nll = logZ - row[t];
        const double smooth = logZ - sumLogits / double(classes);
        total += (1.0 - eps) * nll + eps * smooth;
        ++counted;
    }
    // All targets ignored: PyTorch gives NaN (0/0); a zero loss keeps training alive instead.
    c.outputs[0][0] = counted ? static_cast<float>(total / double(counted)) : 0.0f;
}

void cross_entropy_bwd(const OpContext& c) {
    if (!c.gradInputs[0].data) return;
    const TensorView& x = c.inputs[0];        // (R, C)
    const TensorView& y = c.inputs[1];        // (R)
    const TensorView& dx = c.gradInputs[0];   // (R, C)
    const auto [rows, classes] = ceSizes(c);
    const int64_t ignoreIndex = getInt(c.params, "ignore_index");
    const double eps = getFloat(c.params, "label_smoothing");
    int64_t counted = 0;
    for (int64_t r = 0; r < rows; ++r) {
        counted += ceCounts(std::lround(y[r]), classes, ignoreIndex) ? 1 : 0;
    }
    if (counted == 0) return;
    const double scale = double(c.gradOutputs[0][0]) / double(counted);
    // Each row's exponentials are computed once and kept for the second pass; the buffer is
    // per thread and only grows, so steady training allocates nothing here.
    thread_local std::vector<double> e;  // (C)
    if (static_cast<int64_t>(e.size()) < classes) e.resize(static_cast<size_t>(classes));
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t t = std::lround(y[r]);
        if (!ceCounts(t, classes, ignoreIndex)) continue;
        const float* row = x.data + r * classes;  // (C)
        float* drow = dx.data + r * classes;       // (C)
        const float maxv = *std::max_element(row, row + classes);
        double sumExp = 0;
        for (int64_t k = 0; k < classes; ++k) {
            e[size_t(k)] = std::exp(double(row[k]) - maxv);
            sumExp += e[size_t(k)];
        }
        for (int64_t k = 0; k < classes; ++k) {
            const double p = e[size_t(k)] / sumExp;
            const double target = (k == t ? 1.0 - eps : 0.0) + eps / double(classes);
            drow[k] += static_cast<float>(scale * (p - target));
        }
    }
}

// ---- mse and bce_with_logits: elementwise losses, mean over every element ----

Result<LayerInfo> pairedInfer(const LayerContext& c, const char* what) {
    const Shape& x = c.shape(0);
    if (!x.isBatched()) {
        return fail(std::string("expects batched ") + what + " (N, ...) on 'input' but " +
                    c.gives(0));
    }
    if (c.inputs[0].type->dtype != DType::Float32) {
        return fail(std::string("expects float ") + what + " on 'input' but " + givesTyped(c, 0));
    }
    if (c.inputs[1].type->dtype != DType::Float32) {
        return fail("expects float targets on 'target' but " + givesTyped(c, 1) +
                    "; bind the target to a float32 input");
    }
    if (c.shape(1) != x) {
        return fail("expects targets shaped like the input " + x.str() + " but " + c.gives(1));
    }
    return scalarLoss(x.numel() * 3);
}

Result<LayerInfo> mseInfer(const LayerContext& c) { return pairedInfer(c, "predictions"); }
Result<LayerInfo> bceInfer(const LayerContext& c) { return pairedInfer(c, "logits"); }

void mse_fwd(const OpContext& c) {
    const TensorView& x = c.inputs[0];  // (N, ...)
    const TensorView& t = c.inputs[1];  // (N, ...)
    double total = 0;
    for (int64_t i = 0; i < x.numel(); ++i) {
        const double d = double(x[i]) - t[i];
        total += d * d;
    }
    c.outputs[0][0] = static_cast<float>(total / double(x.numel()));
}

void mse_bwd(const OpContext& c) {
    const TensorView& x = c.inputs[0];  // (N, ...)
    const TensorView& t = c.inputs[1];  // (N, ...)
    const float scale = 2.0f * c.gradOutputs[0][0] / static_cast<float>(x.numel());
    for (int64_t i = 0; i < x.numel(); ++i) {
        const float g = scale * (x[i] - t[i]);
        if (c.gradInputs[0].data) c.gradInputs[0][i] += g;
        if (c.gradInputs[1].data) c.gradInputs[1][i] -= g;
    }
}

// loss = max(x, 0) - x t + log(1 + exp(-|x|)): never exponentiates a large positive number.
void bce_with_logits_fwd(const OpContext& c) {
    const TensorView& x = c.inputs[0];  // (N, ...)
    const TensorView& t = c.inputs[1];  // (N, ...)
    double total = 0;
    for (int64_t i = 0; i < x.numel(); ++i) {
        const double v = x[i];
        total += std::max(v, 0.0) - v * t[i] + std::log1p(std::exp(-std::abs(v)));
    }
    c.outputs[0][0] = static_cast<float>(total / double(x.numel()));
}

void bce_with_logits_bwd(const OpContext& c) {
    const TensorView& x = c.inputs[0];  // (N, ...)
    const TensorView& t = c.inputs[1];  // (N, ...)
    const float scale = c.gradOutputs[0][0] / static_cast<float>(x.numel());
    for (int64_t i = 0; i < x.numel(); ++i) {
        if (c.gradInputs[0].data) {
            // sigmoid written so that exp never overflows
            const float e = std::exp(-std::abs(x[i]));
            const float sig = x[i] >= 0 ? 1.0f / (1.0f + e) : e / (1.0f + e);
            c.gradInputs[0][i] += scale * (sig - t[i]);
        }
        if (c.gradInputs[1].data) c.gradInputs[1][i] -= scale * x[i];
    }
}

}  // namespace

void registerLossLayers(LayerRegistry& r) {
    r.add({
        .id = "cross_entropy",
        .label = "Cross entropy",
        .category = "Loss",
        .doc = "Softmax cross entropy of logits against class ids, mean over counted targets.",
        .inputs = {{"input", "logits (N, C) or (N, T, C)"},
                   {"target", "int32 class ids (N) or (N, T)"}},
        .outputs = {{"loss", "scalar ()"}},
        .params = {intParam("ignore_index", -100, -(int64_t{1} << 31), (int64_t{1} << 31) - 1,
                            "targets with this value add nothing to the loss or the mean"),
                   floatParam("label_smoothing", 0.0, 0.0, 1.0,
                              "mixes this share of a uniform distribution into the targets")},
        .isLoss = true,
        .infer = crossEntropyInfer,
        .forward = cross_entropy_fwd,
        .backward = cross_entropy_bwd,
    });
    r.add({
        .id = "mse",
        .label = "MSE",
        .category = "Loss",
        .doc = "Mean squared error between predictions and float targets of the same shape.",
        .inputs = {{"input", "predictions (N, ...)"}, {"target", "float (N, ...), same shape"}},
        .outputs = {{"loss", "scalar ()"}},
        .isLoss = true,
        .infer = mseInfer,
        .forward = mse_fwd,
        .backward = mse_bwd,
    });
    r.add({
        .id = "bce_with_logits",
        .label = "BCE with logits",
        .category = "Loss",
        .doc = "Binary cross entropy of sigmoid(input) against targets in [0, 1], numerically "
               "stable.",
        .inputs = {{"input", "logits (N, ...)"}, {"target", "float (N, ...) in [0, 1]"}},
        .outputs = {{"loss", "scalar ()"}},
        .isLoss = true,
        .infer = bceInfer,
        .forward = bce_with_logits_fwd,
        .backward = bce_with_logits_bwd,
    });
}

}  // namespace strata

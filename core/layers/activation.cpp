// Elementwise activations and softmax. Each backward uses the saved output or input as noted.
#include <algorithm>
#include <cmath>

#include "core/engine/cpu_math.h"
#include "core/layers/registry.h"

namespace strata {

namespace {

Result<LayerInfo> elementwiseInfer(const LayerContext& c, int64_t flopsPerElement) {
    if (c.inputs[0].type->dtype != DType::Float32) {
        return fail("expects float input but " + c.gives(0) + " of integers; add an embedding");
    }
    LayerInfo info;
    info.outputs.push_back({c.shape(0), DType::Float32});
    info.flops = c.shape(0).numel() * flopsPerElement;
    return info;
}

Result<LayerInfo> sameShapeInfer(const LayerContext& c) { return elementwiseInfer(c, 1); }

// Transcendental functions cost several operations each; these counts are rough but keep the
// FLOP total honest about where the time goes.
ShapeRule costing(int64_t flopsPerElement) {
    return [flopsPerElement](const LayerContext& c) {
        return elementwiseInfer(c, flopsPerElement);
    };
}

// Elementwise loops run over plain pointers on up to cpu::threads() threads: a pointer read through
// a TensorView's vector on every iteration keeps the compiler from vectorising.
constexpr int64_t kElementGrain = 1 << 15;

template <class F>
void forEachElement(int64_t count, const F& body) {
    cpu::parallelFor(count, kElementGrain, [&body](int64_t begin, int64_t end) {
        const F f = body;  // a local copy, so stores through its pointers cannot change them
        for (int64_t i = begin; i < end; ++i) f(i);
    });
}

// ---- relu: backward reads the input ----

void relu_fwd(const OpContext& c) {
    const float* x = c.inputs[0].data;
    float* y = c.outputs[0].data;
    forEachElement(c.inputs[0].numel(), [=](int64_t i) { y[i] = x[i] > 0 ? x[i] : 0.0f; });
}

void relu_bwd(const OpContext& c) {
    if (!c.gradInputs[0].data) return;
    const float* x = c.inputs[0].data;
    const float* dy = c.gradOutputs[0].data;
    float* dx = c.gradInputs[0].data;
    // dy is read unconditionally: a load under the condition would keep the loop scalar and
    // branchy (ReLU's sign pattern mispredicts about half the time).
    forEachElement(c.inputs[0].numel(), [=](int64_t i) {
        const float d = dy[i];
        dx[i] += x[i] > 0 ? d : 0.0f;
    });
}

// ---- leaky_relu: backward reads the input ----

void leaky_relu_fwd(const OpContext& c) {
    const float* x = c.inputs[0].data;
    float* y = c.outputs[0].data;
    const float slope = static_cast<float>(getFloat(c.params, "negative_slope"));
    forEachElement(c.inputs[0].numel(), [=](int64_t i) { y[i] = x[i] > 0 ? x[i] : slope * x[i]; });
}

void leaky_relu_bwd(const OpContext& c) {
    if (!c.gradInputs[0].data) return;
    const float* x = c.inputs[0].data;
    const float* dy = c.gradOutputs[0].data;
    float* dx = c.gradInputs[0].data;
    const float slope = static_cast<float>(getFloat(c.params, "negative_slope"));
    forEachElement(c.inputs[0].numel(),
                   [=](int64_t i) { dx[i] += (x[i] > 0 ? 1.0f : slope) * dy[i]; });
}

// ---- gelu: x * Phi(x) exactly (erf), or PyTorch's tanh approximation; backward reads input ----

constexpr double kSqrt2OverPi = 0.7978845608028654;  // sqrt(2 / pi)
constexpr double kInvSqrt2 = 0.7071067811865476;     // 1 / sqrt(2)
constexpr double kInvSqrt2Pi = 0.3989422804014327;   // 1 / sqrt(2 pi)
constexpr double kGeluCubic = 0.044715;

bool geluTanh(const OpContext& c) { return getString(c.params, "approximate") == "tanh"; }

void gelu_fwd(const OpContext& c) {
    const TensorView& x = c.inputs[0];
    const bool approx = geluTanh(c);
    for (int64_t i = 0; i < x.numel(); ++i) {
        const double v = x[i];
        const double inner = kSqrt2OverPi * (v + kGeluCubic * v * v * v);
        const double cdf = approx ? 0.5 * (1.0 + std::tanh(inner))
                                  : 0.5 * (1.0 + std::erf(v * kInvSqrt2));
        const double y = v * cdf;
        c.outputs[0][i] = static_cast<float>(y);
    }
}

void gelu_bwd(const OpContext& c) {
    if (!c.gradInputs[0].data) return;
    const TensorView& x = c.inputs[0];
    const bool approx = geluTanh(c);
    for (int64_t i = 0; i < x.numel(); ++i) {
        const double v = x[i];
        double d;
        if (approx) {
            const double t = std::tanh(kSqrt2OverPi * (v + kGeluCubic * v * v * v));
            d = 0.5 * (1.0 + t) +
                0.5 * v * (1.0 - t * t) * kSqrt2OverPi * (1.0 + 3.0 * kGeluCubic * v * v);
        } else {
            d = 0.5 * (1.0 + std::erf(v * kInvSqrt2)) + v * kInvSqrt2Pi * std::exp(-0.5 * v * v);
        }
        c.gradInputs[0][i] += static_cast<float>(d * c.gradOutputs[0][i]);
    }
}

// ---- sigmoid and tanh: backward reads the output ----

void sigmoid_fwd(const OpContext& c) {
    const float* x = c.inputs[0].data;
    float* y = c.outputs[0].data;
    forEachElement(c.inputs[0].numel(), [=](int64_t i) {
        // written so that exp never overflows
        const float e = std::exp(-std::abs(x[i]));
        y[i] = x[i] >= 0 ? 1.0f / (1.0f + e) : e / (1.0f + e);
    });
}

void sigmoid_bwd(const OpContext& c) {
    if (!c.gradInputs[0].data) return;
    const float* y = c.outputs[0].data;
    const float* dy = c.gradOutputs[0].data;
    float* dx = c.gradInputs[0].data;
    forEachElement(c.outputs[0].numel(),
                   [=](int64_t i) { dx[i] += y[i] * (1.0f - y[i]) * dy[i]; });
}

void tanh_fwd(const OpContext& c) {
    const float* x = c.inputs[0].data;
    float* y = c.outputs[0].data;
    forEachElement(c.inputs[0].numel(), [=](int64_t i) { y[i] = std::tanh(x[i]); });
}

void tanh_bwd(const OpContext& c) {
    if (!c.gradInputs[0].data) return;
    const float* y = c.outputs[0].data;
    const float* dy = c.gradOutputs[0].data;
    float* dx = c.gradInputs[0].data;
    forEachElement(c.outputs[0].numel(), [=](int64_t i) { dx[i] += (1.0f - y[i] * y[i]) * dy[i]; });
}

// ---- softmax over one dimension of the batched tensor; backward reads the output ----

// dim counts in the batched shape like torch.softmax on the whole batch; dim 0 would mix the
// samples of a batch, so the shape rule refuses it.
Result<LayerInfo> softmaxInfer(const LayerContext& c) {
    auto info = elementwiseInfer(c, 5);
    if (!info) return info;
    const Shape& x = c.shape(0);
    const int64_t dim = getInt(c.params, "dim");
    const int64_t d = dim < 0 ? dim + x.rank() : dim;
    if (d < 0 || d >= x.rank()) {
        return fail("has dim " + std::to_string(dim) + " but the input has " +
                    std::to_string(x.rank()) + " dimensions: " + c.gives(0) +
                    "; choose dim from 1 to " + std::to_string(x.rank() - 1) + " or -1");
    }
    if (d == 0 && x.isBatched()) {
        return fail("cannot take softmax over the batch dimension (dim " + std::to_string(dim) +
                    "); " + c.gives(0) + ", so choose dim from 1 to " +
                    std::to_string(x.rank() - 1) + " or -1");
    }
    return info;
}

struct SoftmaxSizes {
    int64_t outer = 1, len = 1, inner = 1;  // (outer, len, inner) with softmax over len
};

SoftmaxSizes softmaxSizes(const OpContext& c) {
    const Shape& s = c.inputs[0].shape;
    int64_t dim = getInt(c.params, "dim");
    if (dim < 0) dim += s.rank();
    SoftmaxSizes z;
    for (int i = 0; i < s.rank(); ++i) {
        if (i < dim) z.outer *= s[i];
        else if (i == dim) z.len = s[i];
        else z.inner *= s[i];
    }
    return z;
}

void softmax_fwd(const OpContext& c) {
    const TensorView& x = c.inputs[0];   // (outer, len, inner)
    const TensorView& y = c.outputs[0];  // (outer, len, inner)
    const auto [outer, len, inner] = softmaxSizes(c);
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t in = 0; in < inner; ++in) {
            const int64_t base = o * len * inner + in;
            float maxv = x[base];
            for (int64_t k = 1; k < len; ++k) maxv = std::max(maxv, x[base + k * inner]);
            double sum = 0;
            for (int64_t k = 0; k < len; ++k) {
                const float e = std::exp(x[base + k * inner] - maxv);
                y[base + k * inner] = e;
                sum += e;
            }
            const float inv = static_cast<float>(1.0 / sum);
            for (int64_t k = 0; k < len; ++k) y[base + k * inner] *= inv;
        }
    }
}

// dx = y * (dy - sum(dy * y)) along the softmax dimension.
void softmax_bwd(const OpContext& c) {
    if (!c.gradInputs[0].data) return;
    const TensorView& y = c.outputs[0];       // (outer, len, inner)
    const TensorView& dy = c.gradOutputs[0];  // (outer, len, inner)
    const TensorView& dx = c.gradInputs[0];   // (outer, len, inner)
    const auto [outer, len, inner] = softmaxSizes(c);
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t in = 0; in < inner; ++in) {
            const int64_t base = o * len * inner + in;
            double dot = 0;
            for (int64_t k = 0; k < len; ++k) {
                dot += double(dy[base + k * inner]) * y[base + k * inner];
            }
            for (int64_t k = 0; k < len; ++k) {
                const int64_t i = base + k * inner;
                dx[i] += y[i] * (dy[i] - static_cast<float>(dot));
            }
        }
    }
}

}  // namespace

void registerActivationLayers(LayerRegistry& r) {
    r.add({
        .id = "relu",
        .label = "ReLU",
        .category = "Activation",
        .doc = "max(0, x), elementwise.",
        .inputs = {{"in", "any shape"}},
        .outputs = {{"out", "same shape"}},
        .infer = sameShapeInfer,
        .forward = relu_fwd,
        .backward = relu_bwd,
    });
    r.add({
        .id = "leaky_relu",
        .label = "Leaky ReLU",
        .category = "Activation",
        .doc = "x for x > 0, negative_slope * x otherwise, elementwise.",
        .inputs = {{"in", "any shape"}},
        .outputs = {{"out", "same shape"}},
        .params = {floatParam("negative_slope", 0.01, -100.0, 100.0,
                              "slope of the line for negative inputs")},
        .infer = sameShapeInfer,
        .forward = leaky_relu_fwd,
        .backward = leaky_relu_bwd,
    });
    r.add({
        .id = "gelu",
        .label = "GELU",
        .category = "Activation",
        .doc = "x * Phi(x), the Gaussian error linear unit, elementwise.",
        .inputs = {{"in", "any shape"}},
        .outputs = {{"out", "same shape"}},
        .params = {enumParam("approximate", "none", {"none", "tanh"},
                             "none: the exact erf form; tanh: the faster tanh approximation")},
        .infer = costing(8),
        .forward = gelu_fwd,
        .backward = gelu_bwd,
    });
    r.add({
        .id = "sigmoid",
        .label = "Sigmoid",
        .category = "Activation",
        .doc = "1 / (1 + exp(-x)), elementwise.",
        .inputs = {{"in", "any shape"}},
        .outputs = {{"out", "same shape"}},
        .infer = costing(4),
        .forward = sigmoid_fwd,
        .backward = sigmoid_bwd,
    });
    r.add({
        .id = "tanh",
        .label = "Tanh",
        .category = "Activation",
        .doc = "Hyperbolic tangent, elementwise.",
        .inputs = {{"in", "any shape"}},
        .outputs = {{"out", "same shape"}},
        .infer = costing(4),
        .forward = tanh_fwd,
        .backward = tanh_bwd,
    });
    r.add({
        .id = "softmax",
        .label = "Softmax",
        .category = "Activation",
        .doc = "exp(x) normalised to sum to 1 along one dimension.",
        .inputs = {{"in", "any shape"}},
        .outputs = {{"out", "same shape"}},
        .params = {intParam("dim", -1, -8, 8,
                            "dimension of the batched shape to normalise (-1: the last)")},
        .infer = softmaxInfer,
        .forward = softmax_fwd,
        .backward = softmax_bwd,
    });
}

}  // namespace strata

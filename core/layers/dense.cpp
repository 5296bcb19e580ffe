// Dense and structural layers: linear, flatten, reshape, dropout, add, concat.
#include <cmath>
#include <cstring>

#include "core/engine/cpu_math.h"
#include "core/layers/registry.h"

namespace strata {

namespace {

// ---- linear: y = x W^T + b over the last dimension, PyTorch nn.Linear ----

Result<LayerInfo> linearInfer(const LayerContext& c) {
    const Shape& x = c.shape(0);
    if (x.rank() < 2) {
        return fail("expects an input with features in its last dimension (N, ..., in) but " +
                    c.gives(0));
    }
    const int64_t in = x[-1];
    const int64_t out = getInt(c.params, "out_features");
    const bool bias = getBool(c.params, "bias");
    std::vector<int64_t> dims = x.dims();
    dims.back() = out;
    LayerInfo info;
    info.outputs.push_back({Shape(dims), DType::Float32});
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    info.weights.push_back({"weight", {out, in}, Init::uniform(bound)});
    if (bias) info.weights.push_back({"bias", {out}, Init::uniform(bound)});
    const int64_t rows = x.numel() / in;  // rows per sample
    info.flops = rows * out * (2 * in + (bias ? 1 : 0));
    return info;
}

void linear_fwd(const OpContext& c) {
    const TensorView& x = c.inputs[0];       // (rows, in)
    const TensorView& y = c.outputs[0];      // (rows, out)
    const TensorView& w = c.weights[0];      // (out, in)
    const int64_t in = x.shape[-1], out = y.shape[-1], rows = x.numel() / in;
    cpu::gemm(false, true, rows, out, in, 1.0f, x.data, w.data, 0.0f, y.data);
    if (c.weights.size() > 1) {
        const float* b = c.weights[1].data;  // (out)
        for (int64_t r = 0; r < rows; ++r) {
            for (int64_t o = 0; o < out; ++o) y[r * out + o] += b[o];
        }
    }
}

void linear_bwd(const OpContext& c) {
    const TensorView& x = c.inputs[0];       // (rows, in)
    const TensorView& dy = c.gradOutputs[0]; // (rows, out)
    const TensorView& w = c.weights[0];      // (out, in)
    const int64_t in = x.shape[-1], out = dy.shape[-1], rows = x.numel() / in;
    if (c.gradInputs[0].data) {
        cpu::gemm(false, false, rows, in, out, 1.0f, dy.data, w.data, 1.0f, c.gradInputs[0].data);
    }
    cpu::gemm(true, false, out, in, rows, 1.0f, dy.data, x.data, 1.0f, c.gradWeights[0].data);
    if (c.gradWeights.size() > 1) {
        float* db = c.gradWeights[1].data;  // (out)
        for (int64_t r = 0; r < rows; ++r) {
            for (int64_t o = 0; o < out; ++o) db[o] += dy[r * out + o];
        }
    }
}

// ---- flatten: (N, d1, d2, ...) -> (N, d1*d2*...), PyTorch nn.Flatten(start_dim=1) ----

Result<LayerInfo> flattenInfer(const LayerContext& c) {
    const Shape& x = c.shape(0);
    if (!x.isBatched() || x.rank() < 2) {
        return fail("expects a batched input (N, ...) but " + c.gives(0));
    }
    LayerInfo info;
    info.outputs.push_back({Shape::batched({x.numel()}), DType::Float32});
    return info;
}

void flatten_fwd(const OpContext& c) {
    std::memcpy(c.outputs[0].data, c.inputs[0].data, sizeof(float) * c.inputs[0].numel());
}

void flatten_bwd(const OpContext& c) {
    if (!c.gradInputs[0].data) return;
    for (int64_t i = 0; i < c.gradOutputs[0].numel(); ++i) c.gradInputs[0][i] += c.gradOutputs[0][i];
}

}  // namespace

void registerDenseLayers(LayerRegistry& r) {
    r.add({
        .id = "linear",
        .label = "Linear",
        .category = "Dense",
        .doc = "Fully connected layer over the last dimension: y = x W^T + b.",
        .inputs = {{"in", "(N, ..., in_features)"}},
        .outputs = {{"out", "(N, ..., out_features)"}},
        .params = {intParam("out_features", 64, 1, 1 << 20, "size of each output sample"),
                   boolParam("bias", true, "learn an additive bias")},
        .infer = linearInfer,
        .forward = linear_fwd,
        .backward = linear_bwd,
    });
    r.add({
        .id = "flatten",
        .label = "Flatten",
        .category = "Dense",
        .doc = "Flattens every dimension after the batch into one: (N, C, H, W) -> (N, C*H*W).",
        .inputs = {{"in", "(N, ...)"}},
        .outputs = {{"out", "(N, features)"}},
        .infer = flattenInfer,
        .forward = flatten_fwd,
        .backward = flatten_bwd,
    });
}

}  // namespace strata

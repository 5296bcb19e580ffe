// Dense and structural layers: linear, flatten, reshape, dropout, add, concat.
#include <algorithm>
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
    const TensorView& w = c.weights[0];      // (out, in)
    const int64_t in = x.shape[-1], out = c.outputs[0].shape[-1], rows = x.numel() / in;
    float* y = c.outputs[0].data;            // (rows, out)
    if (c.weights.size() == 1) {
        cpu::gemm(false, true, rows, out, in, 1.0f, x.data, w.data, 0.0f, y);
        return;
    }
    // The bias goes in first and the product accumulates onto it (beta = 1): OpenBLAS clears C
    // for beta = 0 anyway, so this costs no extra pass over y.
    const float* b = c.weights[1].data;      // (out)
    for (int64_t r = 0; r < rows; ++r) std::memcpy(y + r * out, b, sizeof(float) * out);
    cpu::gemm(false, true, rows, out, in, 1.0f, x.data, w.data, 1.0f, y);
}

// Column sums of dy into db, row after row (the same order as a plain loop, so the sums do not
// depend on the thread count); plain pointers so that the inner loop vectorises.
void addColumnSums(const float* dy, int64_t rows, int64_t cols, float* db) {
    for (int64_t r = 0; r < rows; ++r) {
        const float* row = dy + r * cols;  // (cols)
        for (int64_t o = 0; o < cols; ++o) db[o] += row[o];
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
    if (c.gradWeights.size() > 1) addColumnSums(dy.data, rows, out, c.gradWeights[1].data);
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
    const TensorView& dy = c.gradOutputs[0];  // (N, ...)
    for (int64_t i = 0; i < dy.numel(); ++i) c.gradInputs[0][i] += dy[i];
}

// ---- reshape: per-sample view change, PyTorch x.reshape(N, *shape) ----

// The target dims may hold one -1, inferred from the sample size like torch.reshape.
Result<LayerInfo> reshapeInfer(const LayerContext& c) {
    const Shape& x = c.shape(0);
    if (!x.isBatched()) return fail("expects a batched input (N, ...) but " + c.gives(0));
    std::vector<int64_t> dims = getShape(c.params, "shape");
    const int64_t have = x.numel();
    int64_t known = 1;
    int inferred = -1;
    std::string target = Shape::batched(dims).str();
    for (size_t i = 0; i < dims.size(); ++i) {
        if (dims[i] == -1) {
            if (inferred >= 0) {
                return fail("can infer only one dimension but the target " + target +
                            " has two -1 entries");
            }
            inferred = static_cast<int>(i);
        } else if (dims[i] <= 0) {
            return fail("needs positive sizes (or one -1) but the target " + target + " has " +
                        std::to_string(dims[i]));
        } else {
            known *= dims[i];
        }
    }
    if (inferred >= 0) {
        if (have % known != 0) {
            return fail("cannot reshape " + x.str() + " into " + target + ": " +
                        std::to_string(have) + " values per sample are not a multiple of " +
                        std::to_string(known) + "; " + c.gives(0));
        }
        dims[static_cast<size_t>(inferred)] = have / known;
        known = have;
    }
    if (known != have) {
        return fail("cannot reshape into " + target + " (" + std::to_string(known) +
                    " values per sample) because " + c.gives(0) + " (" + std::to_string(have) +
                    " values per sample); the sizes' products must be equal");
    }
    LayerInfo info;
    info.outputs.push_back({Shape::batched(dims), c.inputs[0].type->dtype});
    return info;
}

void reshape_fwd(const OpContext& c) { flatten_fwd(c); }
void reshape_bwd(const OpContext& c) { flatten_bwd(c); }

// ---- dropout: inverted dropout, PyTorch nn.Dropout ----
//
// Element i of the batched tensor is kept when cpu::uniform01(seed, i) >= p and then scaled by
// 1 / (1 - p); the mask is never stored: backward regenerates it from the same seed, and the
// Vulkan kernel draws the same numbers.

Result<LayerInfo> dropoutInfer(const LayerContext& c) {
    if (c.inputs[0].type->dtype != DType::Float32) {
        return fail("expects float input but " + c.gives(0) + " of integers");
    }
    LayerInfo info;
    info.outputs.push_back({c.shape(0), DType::Float32});
    info.flops = c.shape(0).numel();
    return info;
}

bool dropoutActive(const OpContext& c) { return c.training && getFloat(c.params, "p") > 0; }

void dropout_fwd(const OpContext& c) {
    const TensorView& x = c.inputs[0];   // (N, ...)
    const TensorView& y = c.outputs[0];  // (N, ...)
    if (!dropoutActive(c)) {
        std::memcpy(y.data, x.data, sizeof(float) * x.numel());
        return;
    }
    const float p = static_cast<float>(getFloat(c.params, "p"));
    const float scale = 1.0f / (1.0f - p);
    for (int64_t i = 0; i < x.numel(); ++i) {
        y[i] = cpu::uniform01(c.seed, static_cast<uint64_t>(i)) >= p ? x[i] * scale : 0.0f;
    }
}

void dropout_bwd(const OpContext& c) {
    const TensorView& dx = c.gradInputs[0];   // (N, ...)
    const TensorView& dy = c.gradOutputs[0];  // (N, ...)
    if (!dx.data) return;
    if (!dropoutActive(c)) {
        for (int64_t i = 0; i < dy.numel(); ++i) dx[i] += dy[i];
        return;
    }
    const float p = static_cast<float>(getFloat(c.params, "p"));
    const float scale = 1.0f / (1.0f - p);
    for (int64_t i = 0; i < dy.numel(); ++i) {
        if (cpu::uniform01(c.seed, static_cast<uint64_t>(i)) >= p) dx[i] += dy[i] * scale;
    }
}

// ---- add: elementwise sum of 2..8 inputs with PyTorch broadcasting ----

std::string dimText(size_t fromRight) { return "dimension -" + std::to_string(fromRight); }
std::string sizeText(int64_t d) { return d == Shape::kBatch ? "N" : std::to_string(d); }

// Shapes align on the right; sizes must match or be 1. The symbolic batch matches itself and
// absorbs 1, but cannot meet a fixed size: the batch size is unknown until training.
Result<LayerInfo> addInfer(const LayerContext& c) {
    size_t rank = 0;
    for (size_t k = 0; k < c.inputs.size(); ++k) {
        if (c.inputs[k].type->dtype != DType::Float32) {
            return fail("adds float tensors but " + c.gives(k) + " of integers");
        }
        rank = std::max(rank, static_cast<size_t>(c.shape(k).rank()));
    }
    for (size_t k = 0; k < c.inputs.size(); ++k) {
        if (c.shape(k).isBatched() && c.shape(k).rank() != static_cast<int>(rank)) {
            return fail("cannot line up the batch dimensions: " + c.gives(k) + " has rank " +
                        std::to_string(c.shape(k).rank()) + " but another input has rank " +
                        std::to_string(rank) + "; reshape it to the same rank with sizes of 1");
        }
    }
    std::vector<int64_t> out(rank, 1);
    std::vector<size_t> from(rank, 0);  // the input that fixed each output size
    for (size_t k = 0; k < c.inputs.size(); ++k) {
        const Shape& s = c.shape(k);
        for (int j = 1; j <= s.rank(); ++j) {
            const int64_t d = s[-j];
            int64_t& o = out[rank - static_cast<size_t>(j)];
            if (d == 1 || d == o) continue;
            if (o == 1) {
                o = d;
                from[rank - static_cast<size_t>(j)] = k;
                continue;
            }
            const size_t other = from[rank - static_cast<size_t>(j)];
            return fail("cannot broadcast the inputs: " + c.gives(other) + " and " +
                        c.gives(k) + ", and their " + dimText(static_cast<size_t>(j)) + " is " +
                        sizeText(o) + " against " + sizeText(d) + "; sizes must match or be 1");
        }
    }
    LayerInfo info;
    info.outputs.push_back({Shape(out), DType::Float32});
    info.flops = Shape(out).numel() * static_cast<int64_t>(c.inputs.size() - 1);
    return info;
}

// Element strides of `in` laid over `out` (right-aligned); 0 where `in` is broadcast.
std::vector<int64_t> broadcastStrides(const Shape& in, const Shape& out) {
    std::vector<int64_t> strides(static_cast<size_t>(out.rank()), 0);
    int64_t stride = 1;
    for (int j = 1; j <= in.rank(); ++j) {
        if (in[-j] != 1) strides[static_cast<size_t>(out.rank() - j)] = stride;
        stride *= in[-j];
    }
    return strides;
}

// Calls fn(outIndex, inOffset) for every element of `out`, walking the indices like an odometer.
template <class Fn>
void forEachBroadcast(const Shape& out, const std::vector<int64_t>& strides, Fn fn) {
    const int rank = out.rank();
    std::vector<int64_t> idx(static_cast<size_t>(rank), 0);
    int64_t off = 0;
    const int64_t n = out.numel();
    for (int64_t o = 0; o < n; ++o) {
        fn(o, off);
        for (int d = rank - 1; d >= 0; --d) {
            const auto u = static_cast<size_t>(d);
            off += strides[u];
            if (++idx[u] < out[d]) break;
            off -= strides[u] * out[d];
            idx[u] = 0;
        }
    }
}

void add_fwd(const OpContext& c) {
    const TensorView& y = c.outputs[0];  // (broadcast shape)
    std::memset(y.data, 0, sizeof(float) * y.numel());
    for (const TensorView& x : c.inputs) {
        if (x.shape == y.shape) {
            for (int64_t i = 0; i < y.numel(); ++i) y[i] += x[i];
        } else {
            forEachBroadcast(y.shape, broadcastStrides(x.shape, y.shape),
                             [&](int64_t o, int64_t off) { y[o] += x[off]; });
        }
    }
}

// A broadcast input receives the sum of the gradients of every output element it fed.
void add_bwd(const OpContext& c) {
    const TensorView& dy = c.gradOutputs[0];  // (broadcast shape)
    for (size_t k = 0; k < c.inputs.size(); ++k) {
        const TensorView& dx = c.gradInputs[k];  // (input k's shape)
        if (!dx.data) continue;
        if (dx.shape == dy.shape) {
            for (int64_t i = 0; i < dy.numel(); ++i) dx[i] += dy[i];
        } else {
            forEachBroadcast(dy.shape, broadcastStrides(dx.shape, dy.shape),
                             [&](int64_t o, int64_t off) { dx[off] += dy[o]; });
        }
    }
}

// ---- concat: join 2..8 inputs along one dimension, PyTorch torch.cat(dim=axis) ----

Result<LayerInfo> concatInfer(const LayerContext& c) {
    const Shape& first = c.shape(0);
    const int64_t axisParam = getInt(c.params, "axis");
    const int rank = first.rank();
    const int64_t axis = axisParam < 0 ? axisParam + rank : axisParam;
    if (axis < 0 || axis >= rank) {
        return fail("has axis " + std::to_string(axisParam) + " but the inputs have " +
                    std::to_string(rank) + " dimensions: " + c.gives(0) +
                    "; choose an axis from 1 to " + std::to_string(rank - 1) + " or -1");
    }
    if (axis == 0 && first.isBatched()) {
        return fail("cannot join along the batch dimension (axis " + std::to_string(axisParam) +
                    "); " + c.gives(0) + ", so choose an axis from 1 to " +
                    std::to_string(rank - 1) + " or -1");
    }
    std::vector<int64_t> out = first.dims();
    for (size_t k = 1; k < c.inputs.size(); ++k) {
        const Shape& s = c.shape(k);
        if (c.inputs[k].type->dtype != c.inputs[0].type->dtype) {
            return fail("joins tensors of one type but " + c.gives(0) + " of " +
                        dtypeName(c.inputs[0].type->dtype) + " and " + c.gives(k) + " of " +
                        dtypeName(c.inputs[k].type->dtype));
        }
        if (s.rank() != rank) {
            return fail("joins inputs of the same rank but " + c.gives(0) + " and " + c.gives(k));
        }
        for (int d = 0; d < rank; ++d) {
            if (d != axis && s[d] != first[d]) {
                return fail("joins along axis " + std::to_string(axisParam) +
                            " inputs that match in every other dimension but " + c.gives(0) +
                            " and " + c.gives(k));
            }
        }
        out[static_cast<size_t>(axis)] += s[static_cast<int>(axis)];
    }
    LayerInfo info;
    info.outputs.push_back({Shape(out), c.inputs[0].type->dtype});
    return info;
}

struct ConcatSizes {
    int64_t outer = 1;  // product of the dims before the axis
    int64_t inner = 1;  // product of the dims after the axis
    int64_t axis = 0;
};

ConcatSizes concatSizes(const OpContext& c, const Shape& y) {
    ConcatSizes z;
    z.axis = getInt(c.params, "axis");
    if (z.axis < 0) z.axis += y.rank();
    for (int d = 0; d < y.rank(); ++d) {
        if (d < z.axis) z.outer *= y[d];
        if (d > z.axis) z.inner *= y[d];
    }
    return z;
}

void concat_fwd(const OpContext& c) {
    const TensorView& y = c.outputs[0];  // (outer, sum of lens, inner)
    const auto [outer, inner, axis] = concatSizes(c, y.shape);
    const int64_t rowOut = y.shape[static_cast<int>(axis)] * inner;
    int64_t at = 0;  // where input k starts within an output row
    for (const TensorView& x : c.inputs) {  // (outer, len_k, inner)
        const int64_t row = x.shape[static_cast<int>(axis)] * inner;
        for (int64_t o = 0; o < outer; ++o) {
            std::memcpy(y.data + o * rowOut + at, x.data + o * row, sizeof(float) * row);
        }
        at += row;
    }
}

void concat_bwd(const OpContext& c) {
    const TensorView& dy = c.gradOutputs[0];  // (outer, sum of lens, inner)
    const auto [outer, inner, axis] = concatSizes(c, dy.shape);
    const int64_t rowOut = dy.shape[static_cast<int>(axis)] * inner;
    int64_t at = 0;
    for (size_t k = 0; k < c.inputs.size(); ++k) {
        const int64_t row = c.inputs[k].shape[static_cast<int>(axis)] * inner;
        const TensorView& dx = c.gradInputs[k];  // (outer, len_k, inner)
        if (dx.data) {
            for (int64_t o = 0; o < outer; ++o) {
                for (int64_t i = 0; i < row; ++i) dx[o * row + i] += dy[o * rowOut + at + i];
            }
        }
        at += row;
    }
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
    r.add({
        .id = "reshape",
        .label = "Reshape",
        .category = "Dense",
        .doc = "Gives each sample new dimensions with the same number of values.",
        .inputs = {{"in", "(N, ...)"}},
        .outputs = {{"out", "(N, *shape)"}},
        .params = {shapeParam("shape", {1}, -1, 1 << 24,
                              "per-sample target dimensions; one may be -1 to infer it")},
        .infer = reshapeInfer,
        .forward = reshape_fwd,
        .backward = reshape_bwd,
    });
    r.add({
        .id = "dropout",
        .label = "Dropout",
        .category = "Dense",
        .doc = "Zeroes each value with probability p while training and scales the rest by "
               "1/(1-p); identity in evaluation.",
        .inputs = {{"in", "any shape"}},
        .outputs = {{"out", "same shape"}},
        .params = {floatParam("p", 0.5, 0.0, 0.99, "probability of zeroing each value")},
        .infer = dropoutInfer,
        .forward = dropout_fwd,
        .backward = dropout_bwd,
    });
    r.add({
        .id = "add",
        .label = "Add",
        .category = "Dense",
        .doc = "Elementwise sum of its inputs, broadcasting sizes of 1 like PyTorch.",
        .inputs = {{"in", "(N, ...) broadcastable with the other inputs"}},
        .outputs = {{"out", "the broadcast shape"}},
        .params = {intParam("inputs", 2, 2, 8, "number of inputs to add")},
        .variadicCountParam = "inputs",
        .infer = addInfer,
        .forward = add_fwd,
        .backward = add_bwd,
    });
    r.add({
        .id = "concat",
        .label = "Concat",
        .category = "Dense",
        .doc = "Joins its inputs along one dimension, like torch.cat.",
        .inputs = {{"in", "(N, ...) matching the others except along axis"}},
        .outputs = {{"out", "(N, ...) with the axis sizes summed"}},
        .params = {intParam("inputs", 2, 2, 8, "number of inputs to join"),
                   intParam("axis", -1, -8, 8,
                            "dimension of the batched shape to join along (-1: the last; 0, the "
                            "batch, is refused)")},
        .variadicCountParam = "inputs",
        .infer = concatInfer,
        .forward = concat_fwd,
        .backward = concat_bwd,
    });
}

}  // namespace strata

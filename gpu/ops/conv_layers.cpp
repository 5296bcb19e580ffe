// Vulkan kernels of the conv family (core/layers/conv.cpp): conv2d, max_pool2d, avg_pool2d,
// global_avg_pool2d.
//
// conv2d is im2col + GEMM like the CPU kernel, over chunks of samples rather than one sample at a
// time: a chunk's columns form one (C*k*k, samples*OH*OW) matrix, so each group needs one GEMM
// per chunk (all groups in one batched dispatch) instead of one per sample, and a training step
// issues a handful of dispatches per conv instead of hundreds. The GEMM's result is channel-major
// (O, samples, OH*OW); one regroup dispatch turns it into the (samples, O, OH, OW) output and adds
// the bias, and the same kernel brings the output gradient into that layout for backward.
#include <algorithm>

#include "gpu/layer_kernels.h"
#include "gpu/ops/conv.h"
#include "gpu/ops/gemm.h"
#include "gpu/ops/pool.h"

namespace strata::gpu {

namespace {

// The scratch of one chunk counts towards the device memory a run holds, on top of the
// activations training keeps: it stays below 1 MiB, or half the layer's whole output where that is
// larger (bigger chunks, fewer dispatches for the large layers, while the scratch stays a fraction
// of what the layer keeps anyway), unless a single sample needs more. 24 MiB chunks made LeNet-5's
// scratch larger than its activation arena.
constexpr uint64_t kChunkScratchFloats = uint64_t(1) << 18;

struct ConvPlan {
    ops::ConvGeometry g;
    uint32_t batch = 0;
    uint32_t outChannels = 0;  // O
    uint32_t groups = 1;
    uint32_t chunk = 1;  // samples per chunk

    uint32_t rowsPerGroup() const { return uint32_t(g.colRows() / groups); }  // Cg*k*k
    uint32_t outPerGroup() const { return outChannels / groups; }            // Og
    uint64_t positions() const { return g.positions(); }                      // OH*OW
    uint64_t outFloats() const { return uint64_t(outChannels) * positions(); }  // per sample
};

uint32_t outSize(int64_t in, int64_t k, int64_t stride, int64_t padding, int64_t dilation) {
    return uint32_t((in + 2 * padding - dilation * (k - 1) - 1) / stride + 1);
}

// Floats of a chunk's scratch, each part rounded up so the next one starts aligned:
// columns (C*k*k, n, P), the channel-major output or output gradient (O, n, P), ones (n*P).
struct ConvScratch {
    BufferRange col, channelMajor, ones;
};

uint64_t alignedFloats(const Device& dev, uint64_t floats) {
    const uint64_t q = std::max<uint64_t>(1, dev.bindingAlignment() / 4);
    return (floats + q - 1) / q * q;
}

uint64_t scratchFloats(const Device& dev, const ConvPlan& p, uint32_t samples) {
    const uint64_t q = uint64_t(samples) * p.positions();
    return alignedFloats(dev, p.g.colRows() * q) + alignedFloats(dev, p.outChannels * q) +
           alignedFloats(dev, q);
}

ConvPlan planConv(const GpuOpContext& c) {
    const Shape& x = c.inputs[0].shape;  // (N, C, H, W)
    const int64_t k = getInt(c.params, "kernel_size"), stride = getInt(c.params, "stride");
    const int64_t padding = getInt(c.params, "padding"), dilation = getInt(c.params, "dilation");
    ConvPlan p;
    p.g = {.channels = uint32_t(x[1]), .height = uint32_t(x[2]), .width = uint32_t(x[3]),
           .outH = outSize(x[2], k, stride, padding, dilation),
           .outW = outSize(x[3], k, stride, padding, dilation), .kernel = uint32_t(k),
           .stride = uint32_t(stride), .padding = uint32_t(padding),
           .dilation = uint32_t(dilation)};
    p.batch = uint32_t(x[0]);
    p.outChannels = uint32_t(c.weights[0].shape[0]);
    p.groups = uint32_t(getInt(c.params, "groups"));
    // As many samples as keep the scratch bounded and every per-chunk binding (input, output,
    // columns) within the device's limit.
    const Device& dev = c.device();
    const uint64_t perSample = std::max({p.g.pixels(), p.outFloats(),
                                         p.g.colRows() * p.positions()});
    const uint64_t room = dev.maxBindingBytes() > dev.bindingAlignment()
                              ? (dev.maxBindingBytes() - dev.bindingAlignment()) / 4
                              : 0;
    const uint64_t byBinding = room / std::max<uint64_t>(perSample, 1);
    const uint64_t budget = std::max(kChunkScratchFloats, p.batch * p.outFloats() / 2);
    const uint64_t byScratch = budget / scratchFloats(dev, p, 1);
    p.chunk = uint32_t(std::clamp<uint64_t>(std::min(byBinding, byScratch), 1, p.batch));
    return p;
}

Result<ConvScratch> convScratch(const GpuOpContext& c, const ConvPlan& p) {
    const Device& dev = c.device();
    auto s = c.scratch(scratchFloats(dev, p, p.chunk), "conv2d columns");
    if (!s) return s.error();
    const uint64_t q = uint64_t(p.chunk) * p.positions();
    const uint64_t colAt = 0, outAt = alignedFloats(dev, p.g.colRows() * q);
    const uint64_t onesAt = outAt + alignedFloats(dev, p.outChannels * q);
    return ConvScratch{s->floatsAt(colAt, p.g.colRows() * q),
                       s->floatsAt(outAt, p.outChannels * q), s->floatsAt(onesAt, q)};
}

// The chunk of samples [first, first + n) of a (N, ...) tensor with `perSample` floats each.
BufferRange samplesOf(const GpuTensor& t, uint64_t perSample, uint32_t first, uint32_t n) {
    return t.range.floatsAt(perSample * first, perSample * n);
}

// y (N, O, OH, OW) = conv(x (N, C, H, W), w (O, C/groups, k, k)) + b (O)
Result<void> conv2d_fwd(const GpuOpContext& c) {
    const ConvPlan p = planConv(c);
    const BufferRange bias = c.weights.size() > 1 ? c.weights[1].range : BufferRange{};
    auto s = convScratch(c, p);
    if (!s) return s.error();
    for (uint32_t first = 0; first < p.batch; first += p.chunk) {
        const uint32_t n = std::min(p.chunk, p.batch - first);
        const BufferRange x = samplesOf(c.inputs[0], p.g.pixels(), first, n);  // (n, C, H, W)
        const BufferRange y = samplesOf(c.outputs[0], p.outFloats(), first, n);  // (n, O, P)
        if (auto r = ops::recordIm2col(c.rec, p.g, n, x, s->col); !r) return r;
        // One sample without bias is already in the output's layout: no regroup needed.
        const bool direct = n == 1 && bias.empty();
        // per group: (Og, Cg*k*k) x (Cg*k*k, n*P) -> (Og, n*P)
        ops::GemmArgs g{.M = p.outPerGroup(), .N = uint32_t(n * p.positions()),
                        .K = p.rowsPerGroup(), .batch = p.groups, .a = c.weights[0].range,
                        .b = s->col, .c = direct ? y : s->channelMajor};
        if (auto r = ops::recordGemm(c.rec, g); !r) return r;
        if (direct) continue;
        if (auto r = ops::recordConvRegroup(c.rec, p.outChannels, n, uint32_t(p.positions()),
                                            s->channelMajor, y, bias, c.label("conv2d_fwd"));
            !r) {
            return r;
        }
    }
    return {};
}

// dw (G, Og, Cg*k*k) += dy_g (Og, n*P) col_g^T, db (O) += dy summed over samples and positions.
// dy: the chunk's output gradient, channel-major (O, n, P).
Result<void> conv2d_bwd_weight(const GpuOpContext& c, const ConvPlan& p, const ConvScratch& s,
                               uint32_t first, uint32_t n, const BufferRange& dy) {
    const uint32_t q = uint32_t(n * p.positions());
    if (c.gradWeights[0].present()) {
        const BufferRange x = samplesOf(c.inputs[0], p.g.pixels(), first, n);  // (n, C, H, W)
        if (auto r = ops::recordIm2col(c.rec, p.g, n, x, s.col); !r) return r;
        ops::GemmArgs g{.transB = true, .M = p.outPerGroup(), .N = p.rowsPerGroup(), .K = q,
                        .batch = p.groups, .beta = 1.0f, .a = dy, .b = s.col,
                        .c = c.gradWeights[0].range};
        if (auto r = ops::recordGemm(c.rec, g); !r) return r;
    }
    if (c.gradWeights.size() > 1 && c.gradWeights[1].present()) {
        // (1, n*P) x (n*P, O) -> (1, O)
        ops::GemmArgs g{.transB = true, .M = 1, .N = p.outChannels, .K = q, .beta = 1.0f,
                        .a = s.ones, .b = dy, .c = c.gradWeights[1].range};
        if (auto r = ops::recordGemm(c.rec, g); !r) return r;
    }
    return {};
}

// dx (n, C, H, W) += col2im(w_g^T dy_g) for every group. dy: channel-major (O, n, P).
Result<void> conv2d_bwd_data(const GpuOpContext& c, const ConvPlan& p, const ConvScratch& s,
                             uint32_t first, uint32_t n, const BufferRange& dy) {
    // per group: (Cg*k*k, Og) x (Og, n*P) -> (Cg*k*k, n*P), into the columns' place
    ops::GemmArgs g{.transA = true, .M = p.rowsPerGroup(), .N = uint32_t(n * p.positions()),
                    .K = p.outPerGroup(), .batch = p.groups, .a = c.weights[0].range, .b = dy,
                    .c = s.col};
    if (auto r = ops::recordGemm(c.rec, g); !r) return r;
    const BufferRange dx = samplesOf(c.gradInputs[0], p.g.pixels(), first, n);
    return ops::recordCol2imAdd(c.rec, p.g, n, s.col, dx);
}

Result<void> conv2d_bwd(const GpuOpContext& c) {
    const bool wantDx = c.gradInputs[0].present();
    const bool wantW = c.gradWeights[0].present() ||
                       (c.gradWeights.size() > 1 && c.gradWeights[1].present());
    if (!wantDx && !wantW) return {};
    const ConvPlan p = planConv(c);
    auto s = convScratch(c, p);
    if (!s) return s.error();
    if (c.gradWeights.size() > 1 && c.gradWeights[1].present()) {
        if (auto r = c.rec.fill(s->ones, 0x3f800000u, c.label("ones")); !r) return r;
    }
    for (uint32_t first = 0; first < p.batch; first += p.chunk) {
        const uint32_t n = std::min(p.chunk, p.batch - first);
        BufferRange dy = samplesOf(c.gradOutputs[0], p.outFloats(), first, n);  // (n, O, P)
        if (n > 1) {  // to (O, n, P); one sample is both
            const BufferRange dyT = s->channelMajor.floatsAt(0, p.outFloats() * n);
            if (auto r = ops::recordConvRegroup(c.rec, n, p.outChannels, uint32_t(p.positions()),
                                                dy, dyT, {}, c.label("conv2d_bwd dy"));
                !r) {
                return r;
            }
            dy = dyT;
        }
        if (wantW) {
            if (auto r = conv2d_bwd_weight(c, p, *s, first, n, dy); !r) return r;
        }
        if (wantDx) {
            if (auto r = conv2d_bwd_data(c, p, *s, first, n, dy); !r) return r;
        }
    }
    return {};
}

// ---- pooling ----

ops::PoolGeometry poolOf(const GpuOpContext& c, bool windowed) {
    const Shape& x = c.inputs[0].shape;  // (N, C, H, W)
    ops::PoolGeometry g{.planes = uint32_t(x[0] * x[1]), .height = uint32_t(x[2]),
                        .width = uint32_t(x[3]), .outH = 1, .outW = 1};
    if (windowed) {
        const int64_t k = getInt(c.params, "kernel_size"), s = getInt(c.params, "stride");
        g.kernel = uint32_t(k);
        g.stride = uint32_t(s == 0 ? k : s);
        g.padding = uint32_t(getInt(c.params, "padding"));
        g.outH = outSize(x[2], k, g.stride, g.padding, 1);
        g.outW = outSize(x[3], k, g.stride, g.padding, 1);
    }
    return g;
}

Result<void> max_pool2d_fwd(const GpuOpContext& c) {
    return ops::recordMaxPool2dFwd(c.rec, poolOf(c, true), c.inputs[0].range,
                                   c.outputs[0].range, c.aux[0].range);
}

Result<void> max_pool2d_bwd(const GpuOpContext& c) {
    if (!c.gradInputs[0].present()) return {};
    return ops::recordMaxPool2dBwd(c.rec, poolOf(c, true), c.gradOutputs[0].range,
                                   c.aux[0].range, c.gradInputs[0].range);
}

Result<void> avg_pool2d_fwd(const GpuOpContext& c) {
    return ops::recordAvgPool2dFwd(c.rec, poolOf(c, true), c.inputs[0].range,
                                   c.outputs[0].range);
}

Result<void> avg_pool2d_bwd(const GpuOpContext& c) {
    if (!c.gradInputs[0].present()) return {};
    return ops::recordAvgPool2dBwd(c.rec, poolOf(c, true), c.gradOutputs[0].range,
                                   c.gradInputs[0].range);
}

Result<void> global_avg_pool2d_fwd(const GpuOpContext& c) {
    return ops::recordGlobalAvgPoolFwd(c.rec, poolOf(c, false), c.inputs[0].range,
                                       c.outputs[0].range);
}

Result<void> global_avg_pool2d_bwd(const GpuOpContext& c) {
    if (!c.gradInputs[0].present()) return {};
    return ops::recordGlobalAvgPoolBwd(c.rec, poolOf(c, false), c.gradOutputs[0].range,
                                       c.gradInputs[0].range);
}

}  // namespace

void registerConvGpuKernels() {
    registerGpuKernels("conv2d", {conv2d_fwd, conv2d_bwd});
    registerGpuKernels("max_pool2d", {max_pool2d_fwd, max_pool2d_bwd});
    registerGpuKernels("avg_pool2d", {avg_pool2d_fwd, avg_pool2d_bwd});
    registerGpuKernels("global_avg_pool2d", {global_avg_pool2d_fwd, global_avg_pool2d_bwd});
}

}  // namespace strata::gpu

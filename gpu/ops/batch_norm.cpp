#include "gpu/ops/batch_norm.h"

#include <algorithm>
#include <string>
#include <vector>

#include "batch_norm_push.h"
#include "gpu/ops/bind_list.h"

namespace strata::gpu::ops {

namespace {

constexpr VkDescriptorType kStorage = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
const KernelLayout kFwd{"batch_norm_fwd", std::vector<VkDescriptorType>(8, kStorage),
                        sizeof(shader::BatchNormFwdPush)};
const KernelLayout kBwd{"batch_norm_bwd", std::vector<VkDescriptorType>(9, kStorage),
                        sizeof(shader::BatchNormBwdPush)};

// One workgroup per channel; a channel's work is a grid-stride loop over n * inner values.
uint32_t channelGroups(const Device& dev, uint32_t channels) {
    const uint32_t cap = dev.info().isCpu() ? 64 : dev.info().maxWorkGroupCount[0];
    return std::clamp<uint32_t>(channels, 1, cap);
}

bool fitsOneBinding(const Device& dev, const BufferRange& r) {
    return r.empty() || r.offset % dev.bindingAlignment() + r.size <= dev.maxBindingBytes();
}

// A part of x viewed as (n, channels, inner): samples [sample, sample + samples) x channels
// [channel, channel + channels) x plane values [value, value + values). Either whole samples,
// or whole planes of one sample, or values of one plane: so the part is one contiguous range.
struct Chunk {
    uint64_t sample = 0, samples = 0;
    uint32_t channel = 0, channels = 0;
    uint64_t value = 0, values = 0;
    bool first() const { return sample == 0 && value == 0; }  // its channels' first values
    uint64_t start(const BatchNormDims& d) const {
        return (sample * d.channels + channel) * d.inner + value;
    }
    uint64_t size(const BatchNormDims& d) const {
        return ((samples - 1) * d.channels + (channels - 1)) * d.inner + values;
    }
};

// Chunks of at most `limit` floats in the order sample, channel, value, so that each channel's
// first chunk comes before its others. One chunk (the whole tensor) when `whole`.
std::vector<Chunk> chunks(const BatchNormDims& d, uint64_t limit, bool whole) {
    const uint64_t plane = d.inner, sample = uint64_t(d.channels) * d.inner;
    std::vector<Chunk> out;
    if (whole) return {{0, d.n, 0, d.channels, 0, d.inner}};
    if (sample <= limit) {
        const uint64_t step = limit / sample;
        for (uint64_t s = 0; s < d.n; s += step) {
            out.push_back({s, std::min<uint64_t>(step, d.n - s), 0, d.channels, 0, d.inner});
        }
    } else if (plane <= limit) {
        const uint32_t step = uint32_t(limit / plane);
        for (uint64_t s = 0; s < d.n; ++s) {
            for (uint32_t c = 0; c < d.channels; c += step) {
                out.push_back({s, 1, c, std::min(step, d.channels - c), 0, d.inner});
            }
        }
    } else {
        for (uint64_t s = 0; s < d.n; ++s) {
            for (uint32_t c = 0; c < d.channels; ++c) {
                for (uint64_t v = 0; v < plane; v += limit) {
                    out.push_back({s, 1, c, 1, v, std::min(limit, plane - v)});
                }
            }
        }
    }
    return out;
}

// Floats that bind in one descriptor wherever they start.
Result<uint64_t> chunkFloats(const Device& dev) {
    const uint64_t slack = dev.bindingAlignment() - 4;
    if (dev.maxBindingBytes() < slack + 4) {
        return fail("batch_norm: the device's binding limit is too small.");
    }
    return (dev.maxBindingBytes() - slack) / 4;
}

BufferRange part(const BufferRange& r, const Chunk& k, const BatchNormDims& d) {
    return r.empty() ? r : r.floatsAt(k.start(d), k.size(d));
}

BufferRange channelsOf(const BufferRange& r, const Chunk& k) {
    return r.empty() ? r : r.floatsAt(k.channel, k.channels);
}

}  // namespace

Result<void> recordBatchNormFwd(Recorder& rec, const BatchNormFwdArgs& a) {
    const uint64_t n = a.dims.numel();
    if (n == 0) return {};
    const Device& dev = rec.device();
    auto limit = chunkFloats(dev);
    if (!limit) return limit.error();
    const bool whole = fitsOneBinding(dev, a.x.floatsAt(0, n)) &&
                       fitsOneBinding(dev, a.y.floatsAt(0, n));
    const std::vector<Chunk> parts = chunks(a.dims, *limit, whole);
    const uint32_t c = a.dims.channels;
    const Access stats = a.training ? Access::ReadWrite : Access::Read;
    // Whole: one dispatch. Split in training: sums, then squared deviations, then the output,
    // each over every chunk; in eval only the output.
    std::vector<uint32_t> phases{STRATA_BN_WHOLE};
    if (!whole && a.training) phases = {STRATA_BN_SUM, STRATA_BN_SQUARES, STRATA_BN_NORMALISE};
    if (!whole && !a.training) phases = {STRATA_BN_NORMALISE};
    for (uint32_t phase : phases) {
        for (const Chunk& k : parts) {
            const bool output = phase == STRATA_BN_WHOLE || phase == STRATA_BN_NORMALISE;
            const bool finalise = output && k.first();  // statistics written here
            BindList b(dev);
            shader::BatchNormFwdPush p{};
            p.n = uint32_t(k.samples);
            p.channels = c;
            p.inner = a.dims.inner;
            p.training = a.training ? 1 : 0;
            p.eps = a.eps;
            p.momentum = a.momentum;
            p.phase = phase;
            p.channel0 = k.channel;
            p.chunkChannels = k.channels;
            p.chunkInner = uint32_t(k.values);
            p.first = k.first() ? 1 : 0;
            p.count = uint32_t(uint64_t(a.dims.n) * a.dims.inner);
            const BufferRange none{};
            p.offX = b.add(part(a.x, k, a.dims), Access::Read, "batch_norm input");
            p.offY = b.add(output ? part(a.y, k, a.dims) : none, Access::Write,
                           "batch_norm output");
            p.offGamma = b.add(output ? a.gamma.floatsAt(0, c) : none, Access::Read,
                               "batch_norm weight");
            p.offBeta = b.add(output ? a.beta.floatsAt(0, c) : none, Access::Read,
                              "batch_norm bias");
            p.offRunningMean = b.add(finalise ? a.runningMean.floatsAt(0, c) : none, stats,
                                     "batch_norm running_mean");
            p.offRunningVar = b.add(finalise ? a.runningVar.floatsAt(0, c) : none, stats,
                                    "batch_norm running_var");
            // The aux carries the sums between phases: written by a channel's first chunk,
            // accumulated into by its later ones.
            const Access mean = phase == STRATA_BN_WHOLE ? Access::Write
                                : phase == STRATA_BN_SUM || finalise ? Access::ReadWrite
                                                                     : Access::Read;
            const Access invstd = phase == STRATA_BN_WHOLE ? Access::Write
                                  : phase == STRATA_BN_SQUARES || finalise ? Access::ReadWrite
                                  : phase == STRATA_BN_SUM                 ? Access::Unused
                                                                           : Access::Read;
            p.offMean = b.add(a.mean.floatsAt(0, c), mean, "batch_norm saved mean");
            p.offInvstd = b.add(invstd == Access::Unused ? none : a.invstd.floatsAt(0, c),
                                invstd, "batch_norm saved invstd");
            if (auto s = b.status(); !s) return s;
            const char* label = phase == STRATA_BN_WHOLE ? (a.training ? "batch_norm_fwd train"
                                                                       : "batch_norm_fwd eval")
                                : phase == STRATA_BN_SUM     ? "batch_norm_fwd sums"
                                : phase == STRATA_BN_SQUARES ? "batch_norm_fwd squares"
                                                             : "batch_norm_fwd normalise";
            if (auto r = rec.dispatch(kFwd, {}, b.bindings(), &p,
                                      {channelGroups(dev, k.channels), 1, 1}, label);
                !r) {
                return r;
            }
        }
    }
    return {};
}

bool batchNormBwdSplits(const Device& dev, const BatchNormBwdArgs& a) {
    const uint64_t n = a.dims.numel();
    return !(fitsOneBinding(dev, a.x.floatsAt(0, n)) && fitsOneBinding(dev, a.dy.floatsAt(0, n)) &&
             (a.dx.empty() || fitsOneBinding(dev, a.dx.floatsAt(0, n))));
}

Result<void> recordBatchNormBwd(Recorder& rec, const BatchNormBwdArgs& a) {
    const uint64_t n = a.dims.numel();
    if (n == 0 || (a.dx.empty() && a.dgamma.empty() && a.dbeta.empty())) return {};
    const Device& dev = rec.device();
    auto limit = chunkFloats(dev);
    if (!limit) return limit.error();
    const bool whole = !batchNormBwdSplits(dev, a);
    const uint32_t c = a.dims.channels;
    if (!whole && a.sums.floats() < 2ull * c) {
        return fail("batch_norm backward spans more than one binding but was given no room for "
                    "its per-channel sums.");
    }
    const std::vector<Chunk> parts = chunks(a.dims, *limit, whole);
    std::vector<uint32_t> phases{STRATA_BN_WHOLE};
    if (!whole) phases = {STRATA_BN_GRAD_SUMS, STRATA_BN_GRAD_APPLY};
    for (uint32_t phase : phases) {
        for (const Chunk& k : parts) {
            const bool apply = phase != STRATA_BN_GRAD_SUMS;
            const bool weights = apply && k.first();  // dgamma, dbeta added here
            if (phase == STRATA_BN_GRAD_APPLY && !weights && a.dx.empty()) continue;
            BindList b(dev);
            shader::BatchNormBwdPush p{};
            p.n = uint32_t(k.samples);
            p.channels = c;
            p.inner = a.dims.inner;
            p.training = a.training ? 1 : 0;
            p.phase = phase;
            p.channel0 = k.channel;
            p.chunkChannels = k.channels;
            p.chunkInner = uint32_t(k.values);
            p.first = k.first() ? 1 : 0;
            p.count = uint32_t(uint64_t(a.dims.n) * a.dims.inner);
            const BufferRange none{};
            const bool readsX = phase != STRATA_BN_GRAD_APPLY || !a.dx.empty();
            p.offX = b.add(readsX ? part(a.x, k, a.dims) : none, Access::Read,
                           "batch_norm input");
            p.offDy = b.add(readsX ? part(a.dy, k, a.dims) : none, Access::Read,
                            "batch_norm output gradient");
            p.offGamma = b.add(apply && !a.dx.empty() ? a.gamma.floatsAt(0, c) : none,
                               Access::Read, "batch_norm weight");
            p.offMean = b.add(a.mean.floatsAt(0, c), Access::Read, "batch_norm saved mean");
            p.offInvstd = b.add(a.invstd.floatsAt(0, c), Access::Read, "batch_norm saved invstd");
            p.offDx = b.addOptional(apply ? part(a.dx, k, a.dims) : none, Access::ReadWrite,
                                    "batch_norm input gradient");
            // Only the chunk's channels, so chunks of other channels need no barrier between.
            p.offDgamma = b.addOptional(weights ? channelsOf(a.dgamma, k) : none,
                                        Access::ReadWrite, "batch_norm weight gradient");
            p.offDbeta = b.addOptional(weights ? channelsOf(a.dbeta, k) : none,
                                       Access::ReadWrite, "batch_norm bias gradient");
            p.offSums = b.addOptional(whole ? none : a.sums.floatsAt(0, 2ull * c),
                                      apply ? Access::Read : Access::ReadWrite,
                                      "batch_norm gradient sums");
            p.hasDx = a.dx.empty() ? 0 : 1;
            p.hasDgamma = a.dgamma.empty() ? 0 : 1;
            p.hasDbeta = a.dbeta.empty() ? 0 : 1;
            if (auto s = b.status(); !s) return s;
            const char* label = phase == STRATA_BN_WHOLE       ? "batch_norm_bwd"
                                : phase == STRATA_BN_GRAD_SUMS ? "batch_norm_bwd sums"
                                                               : "batch_norm_bwd apply";
            if (auto r = rec.dispatch(kBwd, {}, b.bindings(), &p,
                                      {channelGroups(dev, k.channels), 1, 1}, label);
                !r) {
                return r;
            }
        }
    }
    return {};
}

}  // namespace strata::gpu::ops

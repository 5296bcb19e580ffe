#include "gpu/ops/attention.h"

#include <algorithm>
#include <string>
#include <vector>

#include "attention_push.h"
#include "gpu/ops/bind_list.h"
#include "gpu/ops/common.h"
#include "head_push.h"
#include "positional_push.h"

namespace strata::gpu::ops {

namespace {

using shader::AttentionEltwisePush;
using shader::AttentionSoftmaxPush;
using shader::HeadPush;
using shader::PositionalPush;
constexpr VkDescriptorType kStorage = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
const std::vector<VkDescriptorType> kThree(3, kStorage), kFour(4, kStorage);
const KernelLayout kHeadSplit{"head_split", kFour, sizeof(HeadPush)};
const KernelLayout kHeadMerge{"head_merge", kFour, sizeof(HeadPush)};
const KernelLayout kSoftmaxFwd{"attention_softmax_fwd", kThree, sizeof(AttentionSoftmaxPush)};
const KernelLayout kSoftmaxBwd{"attention_softmax_bwd", kThree, sizeof(AttentionSoftmaxPush)};
const KernelLayout kEltwise{"attention_eltwise", kFour, sizeof(AttentionEltwisePush)};
const KernelLayout kPositionalFwd{"positional_fwd", kFour, sizeof(PositionalPush)};
const KernelLayout kPositionalBwd{"positional_bwd", kFour, sizeof(PositionalPush)};

// The seed words, bound only when dropout is on (the kernels read them only then).
BufferRange seedUsed(const DropoutSite& d) {
    return d.enabled ? d.seed.floatsAt(0, 2) : BufferRange{};
}

Result<void> checkDropout(const DropoutSite& d) {
    if (!d.enabled) return {};
    if (!(d.p >= 0.0f && d.p < 1.0f)) return fail("dropout p must be in [0, 1).");
    if (d.seed.size < 8) return fail("dropout needs the op's 8-byte seed buffer.");
    return {};
}

bool fitsOneBinding(const Device& dev, const BufferRange& r) {
    return r.empty() || r.offset % dev.bindingAlignment() + r.size <= dev.maxBindingBytes();
}

// Items (rows, samples) per dispatch: all when every tensor fits one binding, else as many as
// fit one wherever they start, given the floats one item spans in the largest tensor.
Result<uint32_t> itemsPerPart(const Device& dev, uint32_t items, uint64_t floatsPerItem,
                              const std::vector<BufferRange>& tensors, const char* what) {
    bool whole = true;
    for (const auto& t : tensors) whole = whole && fitsOneBinding(dev, t);
    if (whole) return items;
    const uint64_t slack = dev.bindingAlignment() - 4;
    const uint64_t limit = dev.maxBindingBytes() > slack ? (dev.maxBindingBytes() - slack) / 4 : 0;
    if (floatsPerItem > limit) {
        return fail(std::string(what) + ": one " + std::to_string(floatsPerItem) +
                    "-value piece is more than the device binds at once (" +
                    byteText(dev.maxBindingBytes()) + ").");
    }
    return uint32_t(std::min<uint64_t>(items, limit / std::max<uint64_t>(floatsPerItem, 1)));
}

BufferRange partOf(const BufferRange& r, uint64_t first, uint64_t count) {
    return r.empty() ? r : r.floatsAt(first, count);
}

Result<void> eltwise(Recorder& rec, uint32_t mode, Activation act, const BufferRange& a,
                     const BufferRange& b, const DropoutSite& drop, const BufferRange& y,
                     bool accumulate, const char* label) {
    if (auto r = checkDropout(drop); !r) return r;
    const uint64_t n = b.floats();
    if (n == 0) return {};
    if (y.floats() != n || (!a.empty() && a.floats() != n)) {
        return fail(std::string(label) + " operands differ in length.");
    }
    const bool reads =
        accumulate && (mode == STRATA_ATTN_DROP || mode == STRATA_ATTN_DROP_ACT_GRAD);
    const Device& dev = rec.device();
    const uint64_t slack = std::max(slackOf(dev, {b, y}), a.empty() ? 0 : slackOf(dev, {a}));
    return forEachChunk(dev, n, slack, [&](uint64_t first, uint64_t count) -> Result<void> {
        AttentionEltwisePush p{};
        p.n = uint32_t(count);
        p.mode = mode;
        p.activation = uint32_t(act);
        p.p = drop.p;
        p.site = drop.site;
        p.dropOn = drop.enabled ? 1 : 0;
        p.accumulate = accumulate ? 1 : 0;
        p.first = uint32_t(first);
        BindList list(dev);
        p.offA = list.add(partOf(a, first, count), Access::Read, label);
        p.offB = list.add(b.floatsAt(first, count), Access::Read, label);
        p.offY = list.add(y.floatsAt(first, count), reads ? Access::ReadWrite : Access::Write,
                          label);
        p.offSeed = list.add(seedUsed(drop), Access::Read, "dropout seed");
        if (auto r = list.status(); !r) return r;
        const uint32_t spec[] = {p.mode, p.activation, p.dropOn, p.accumulate};
        return rec.dispatch(kEltwise, spec, list.bindings(), &p,
                            {strideGroups(dev, count, 64), 1, 1}, label);
    });
}

}  // namespace

namespace {

// head_split (rows to heads) and head_merge (heads back to rows) bind the same ranges and
// differ only in which side they write.
Result<void> recordHeadCopy(Recorder& rec, bool toHeads, uint32_t n, uint32_t l, uint32_t h,
                            uint32_t dh, const BufferRange& rows, uint32_t stride, uint32_t col0,
                            std::span<const BufferRange> heads) {
    const char* label = toHeads ? "head_split" : "head_merge";
    const uint32_t parts = uint32_t(heads.size());
    const uint64_t per = uint64_t(n) * l * h * dh;
    if (parts == 0 || parts > 3 || per == 0) return {};
    const uint64_t rowFloats = uint64_t(l) * stride, headFloats = uint64_t(l) * h * dh;
    std::vector<BufferRange> all{rows.floatsAt(0, n * rowFloats)};
    for (const auto& hr : heads) all.push_back(hr.floatsAt(0, per));
    auto perPart = itemsPerPart(rec.device(), n, std::max(rowFloats, headFloats), all, label);
    if (!perPart) return perPart.error();
    // Parts of the samples when the tensors are larger than one binding.
    for (uint32_t n0 = 0; n0 < n; n0 += *perPart) {
        const uint32_t nc = std::min(*perPart, n - n0);
        HeadPush p{nc, l, h, dh, stride, col0, parts, 0, 0, 0, 0};
        BindList list(rec.device());
        // Merging writes the heads' columns only, but the range spans the others.
        p.offRows = list.add(rows.floatsAt(n0 * rowFloats, nc * rowFloats),
                             toHeads ? Access::Read : Access::Write, "rows");
        uint32_t* offs[3] = {&p.offHeads0, &p.offHeads1, &p.offHeads2};
        for (uint32_t k = 0; k < 3; ++k) {
            *offs[k] = list.add(k < parts ? heads[k].floatsAt(n0 * headFloats, nc * headFloats)
                                          : BufferRange{},
                                toHeads ? Access::Write : Access::Read, "heads");
        }
        if (auto r = list.status(); !r) return r;
        if (auto r = rec.dispatch(toHeads ? kHeadSplit : kHeadMerge, {}, list.bindings(), &p,
                                  {strideGroups(rec.device(), nc * headFloats / dh * parts, 64),
                                   1, 1},
                                  label);
            !r) {
            return r;
        }
    }
    return {};
}

}  // namespace

Result<void> recordHeadSplit(Recorder& rec, uint32_t n, uint32_t l, uint32_t h, uint32_t dh,
                             const BufferRange& rows, uint32_t stride, uint32_t col0,
                             std::span<const BufferRange> heads) {
    return recordHeadCopy(rec, true, n, l, h, dh, rows, stride, col0, heads);
}

Result<void> recordHeadMerge(Recorder& rec, uint32_t n, uint32_t l, uint32_t h, uint32_t dh,
                             std::span<const BufferRange> heads, const BufferRange& rows,
                             uint32_t stride, uint32_t col0) {
    return recordHeadCopy(rec, false, n, l, h, dh, rows, stride, col0, heads);
}

Result<void> recordAttentionSoftmaxFwd(Recorder& rec, uint32_t blocks, uint32_t t, uint32_t s,
                                       bool causal, const BufferRange& probs,
                                       const DropoutSite& drop, const BufferRange& dropped) {
    if (auto r = checkDropout(drop); !r) return r;
    const uint32_t rows = blocks * t;
    const uint64_t n = uint64_t(rows) * s;
    if (n == 0) return {};
    const BufferRange dropUsed = drop.enabled ? dropped.floatsAt(0, n) : BufferRange{};
    auto perPart = itemsPerPart(rec.device(), rows, s, {probs.floatsAt(0, n), dropUsed},
                                "attention softmax");
    if (!perPart) return perPart.error();
    // Parts of the rows when the scores are larger than one binding.
    for (uint32_t r0 = 0; r0 < rows; r0 += *perPart) {
        const uint32_t rc = std::min(*perPart, rows - r0);
        AttentionSoftmaxPush p{};
        p.rows = rc;
        p.t = t;
        p.s = s;
        p.causal = causal ? 1 : 0;
        p.p = drop.p;
        p.site = drop.site;
        p.dropOn = drop.enabled ? 1 : 0;
        p.firstRow = r0;
        BindList list(rec.device());
        p.offP = list.add(probs.floatsAt(uint64_t(r0) * s, uint64_t(rc) * s), Access::ReadWrite,
                          "attention probabilities");
        p.offD = list.add(partOf(dropUsed, uint64_t(r0) * s, uint64_t(rc) * s), Access::Write,
                          "dropped attention probabilities");
        p.offSeed = list.add(seedUsed(drop), Access::Read, "dropout seed");
        if (auto r = list.status(); !r) return r;
        if (auto r = rec.dispatch(kSoftmaxFwd, {}, list.bindings(), &p,
                                  {strideGroups(rec.device(), rc, 64), 1, 1},
                                  "attention_softmax_fwd");
            !r) {
            return r;
        }
    }
    return {};
}

Result<void> recordAttentionSoftmaxBwd(Recorder& rec, uint32_t blocks, uint32_t t, uint32_t s,
                                       const BufferRange& probs, const DropoutSite& drop,
                                       const BufferRange& grad) {
    if (auto r = checkDropout(drop); !r) return r;
    const uint32_t rows = blocks * t;
    const uint64_t n = uint64_t(rows) * s;
    if (n == 0) return {};
    auto perPart = itemsPerPart(rec.device(), rows, s, {probs.floatsAt(0, n), grad.floatsAt(0, n)},
                                "attention softmax");
    if (!perPart) return perPart.error();
    for (uint32_t r0 = 0; r0 < rows; r0 += *perPart) {
        const uint32_t rc = std::min(*perPart, rows - r0);
        AttentionSoftmaxPush p{};
        p.rows = rc;
        p.t = t;
        p.s = s;
        p.p = drop.p;
        p.site = drop.site;
        p.dropOn = drop.enabled ? 1 : 0;
        p.firstRow = r0;
        BindList list(rec.device());
        p.offP = list.add(probs.floatsAt(uint64_t(r0) * s, uint64_t(rc) * s), Access::Read,
                          "attention probabilities");
        p.offD = list.add(grad.floatsAt(uint64_t(r0) * s, uint64_t(rc) * s), Access::ReadWrite,
                          "attention gradient");
        p.offSeed = list.add(seedUsed(drop), Access::Read, "dropout seed");
        if (auto r = list.status(); !r) return r;
        if (auto r = rec.dispatch(kSoftmaxBwd, {}, list.bindings(), &p,
                                  {strideGroups(rec.device(), rc, 64), 1, 1},
                                  "attention_softmax_bwd");
            !r) {
            return r;
        }
    }
    return {};
}

Result<void> recordResidualDropout(Recorder& rec, const BufferRange& a, const BufferRange& b,
                                   const DropoutSite& drop, const BufferRange& y) {
    return eltwise(rec, STRATA_ATTN_RESIDUAL_DROP, Activation::None, a, b, drop, y, false,
                   "residual_dropout");
}

Result<void> recordActivationDropout(Recorder& rec, Activation act, const BufferRange& x,
                                     const DropoutSite& drop, const BufferRange& y) {
    return eltwise(rec, STRATA_ATTN_ACT_DROP, act, {}, x, drop, y, false, "activation_dropout");
}

Result<void> recordDropoutInto(Recorder& rec, const BufferRange& x, const DropoutSite& drop,
                               const BufferRange& y, bool accumulate) {
    return eltwise(rec, STRATA_ATTN_DROP, Activation::None, {}, x, drop, y, accumulate,
                   accumulate ? "dropout_add" : "dropout_copy");
}

Result<void> recordDropoutActivationGrad(Recorder& rec, Activation act, const BufferRange& pre,
                                         const BufferRange& dact, const DropoutSite& drop,
                                         const BufferRange& dpre, bool accumulate) {
    return eltwise(rec, STRATA_ATTN_DROP_ACT_GRAD, act, pre, dact, drop, dpre, accumulate,
                   "dropout_activation_bwd");
}

Result<void> recordPositionalFwd(Recorder& rec, uint32_t n, uint32_t t, uint32_t d,
                                 const BufferRange& x, const BufferRange& table,
                                 const DropoutSite& drop, const BufferRange& y) {
    if (auto r = checkDropout(drop); !r) return r;
    const uint64_t count = uint64_t(n) * t * d;
    if (count == 0) return {};
    const uint64_t sample = uint64_t(t) * d;
    const std::vector<BufferRange> whole{x.floatsAt(0, count), y.floatsAt(0, count)};
    auto perPart = itemsPerPart(rec.device(), n, sample, whole, "positional encoding");
    if (!perPart) return perPart.error();
    // Parts of the batch when the sequences are larger than one binding.
    for (uint32_t n0 = 0; n0 < n; n0 += *perPart) {
        const uint32_t nc = std::min(*perPart, n - n0);
        PositionalPush p{};
        p.n = nc;
        p.t = t;
        p.d = d;
        p.learned = table.empty() ? 0 : 1;
        p.p = drop.p;
        p.dropOn = drop.enabled ? 1 : 0;
        p.firstSample = n0;
        BindList list(rec.device());
        p.offIn = list.add(x.floatsAt(n0 * sample, nc * sample), Access::Read,
                           "positional encoding input");
        p.offOut = list.add(y.floatsAt(n0 * sample, nc * sample), Access::Write,
                            "positional encoding output");
        p.offW = list.add(partOf(table, 0, sample), Access::Read, "positional table");
        p.offSeed = list.add(seedUsed(drop), Access::Read, "dropout seed");
        if (auto r = list.status(); !r) return r;
        if (auto r = rec.dispatch(kPositionalFwd, {}, list.bindings(), &p,
                                  {strideGroups(rec.device(), nc * sample, 64), 1, 1},
                                  "positional_fwd");
            !r) {
            return r;
        }
    }
    return {};
}

Result<void> recordPositionalBwd(Recorder& rec, uint32_t n, uint32_t t, uint32_t d,
                                 const BufferRange& dy, const DropoutSite& drop,
                                 const BufferRange& dx, const BufferRange& dtable) {
    if (auto r = checkDropout(drop); !r) return r;
    const uint64_t count = uint64_t(n) * t * d, rows = uint64_t(t) * d;
    if (count == 0 || (dx.empty() && dtable.empty())) return {};
    auto perPart = itemsPerPart(rec.device(), n, rows,
                                {dy.floatsAt(0, count), partOf(dx, 0, count)},
                                "positional encoding");
    if (!perPart) return perPart.error();
    // Parts of the batch, each adding its samples' share into the table gradient in order.
    for (uint32_t n0 = 0; n0 < n; n0 += *perPart) {
        const uint32_t nc = std::min(*perPart, n - n0);
        PositionalPush p{};
        p.n = nc;
        p.t = t;
        p.d = d;
        p.p = drop.p;
        p.dropOn = drop.enabled ? 1 : 0;
        p.hasOut = dx.empty() ? 0 : 1;
        p.hasW = dtable.empty() ? 0 : 1;
        p.firstSample = n0;
        BindList list(rec.device());
        p.offIn = list.add(dy.floatsAt(n0 * rows, nc * rows), Access::Read,
                           "positional output gradient");
        p.offOut = list.add(partOf(dx, n0 * rows, nc * rows), Access::ReadWrite,
                            "positional input gradient");
        p.offW = list.add(partOf(dtable, 0, rows), Access::ReadWrite, "positional table gradient");
        p.offSeed = list.add(seedUsed(drop), Access::Read, "dropout seed");
        if (auto r = list.status(); !r) return r;
        const uint64_t items = (dx.empty() ? 0 : nc * rows) + (dtable.empty() ? 0 : rows);
        if (auto r = rec.dispatch(kPositionalBwd, {}, list.bindings(), &p,
                                  {strideGroups(rec.device(), items, 64), 1, 1},
                                  "positional_bwd");
            !r) {
            return r;
        }
    }
    return {};
}

}  // namespace strata::gpu::ops

#include "gpu/ops/attention.h"

#include "attention_push.h"
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

Result<void> eltwise(Recorder& rec, uint32_t mode, Activation act, const BufferRange& a,
                     const BufferRange& b, const DropoutSite& drop, const BufferRange& y,
                     bool accumulate, const char* label) {
    if (auto r = checkDropout(drop); !r) return r;
    const uint64_t n = b.floats();
    if (n == 0) return {};
    if (y.floats() != n || (!a.empty() && a.floats() != n)) {
        return fail(std::string(label) + " operands differ in length.");
    }
    AttentionEltwisePush p{};
    p.n = uint32_t(n);
    p.mode = mode;
    p.activation = uint32_t(act);
    p.p = drop.p;
    p.site = drop.site;
    p.dropOn = drop.enabled ? 1 : 0;
    p.accumulate = accumulate ? 1 : 0;
    const bool reads =
        accumulate && (mode == STRATA_ATTN_DROP || mode == STRATA_ATTN_DROP_ACT_GRAD);
    BindList list(rec.device());
    p.offA = list.add(a, Access::Read, label);
    p.offB = list.add(b, Access::Read, label);
    p.offY = list.add(y, reads ? Access::ReadWrite : Access::Write, label);
    p.offSeed = list.add(seedUsed(drop), Access::Read, "dropout seed");
    if (auto r = list.status(); !r) return r;
    const uint32_t spec[] = {p.mode, p.activation, p.dropOn, p.accumulate};
    return rec.dispatch(kEltwise, spec, list.bindings(), &p,
                        {strideGroups(rec.device(), n, 64), 1, 1}, label);
}

}  // namespace

Result<void> recordHeadSplit(Recorder& rec, uint32_t n, uint32_t l, uint32_t h, uint32_t dh,
                             const BufferRange& rows, uint32_t stride, uint32_t col0,
                             std::span<const BufferRange> heads) {
    const uint32_t parts = uint32_t(heads.size());
    const uint64_t per = uint64_t(n) * l * h * dh;
    if (parts == 0 || parts > 3 || per == 0) return {};
    HeadPush p{n, l, h, dh, stride, col0, parts, 0, 0, 0, 0};
    BindList list(rec.device());
    p.offRows = list.add(rows.floatsAt(0, uint64_t(n) * l * stride), Access::Read, "rows");
    uint32_t* offs[3] = {&p.offHeads0, &p.offHeads1, &p.offHeads2};
    for (uint32_t k = 0; k < 3; ++k) {
        *offs[k] = list.add(k < parts ? heads[k].floatsAt(0, per) : BufferRange{}, Access::Write, "heads");
    }
    if (auto r = list.status(); !r) return r;
    return rec.dispatch(kHeadSplit, {}, list.bindings(), &p,
                        {strideGroups(rec.device(), per / dh * parts, 64), 1, 1}, "head_split");
}

Result<void> recordHeadMerge(Recorder& rec, uint32_t n, uint32_t l, uint32_t h, uint32_t dh,
                             std::span<const BufferRange> heads, const BufferRange& rows,
                             uint32_t stride, uint32_t col0) {
    const uint32_t parts = uint32_t(heads.size());
    const uint64_t per = uint64_t(n) * l * h * dh;
    if (parts == 0 || parts > 3 || per == 0) return {};
    HeadPush p{n, l, h, dh, stride, col0, parts, 0, 0, 0, 0};
    BindList list(rec.device());
    // Columns outside the blocks are not written, but the range spans them.
    p.offRows = list.add(rows.floatsAt(0, uint64_t(n) * l * stride), Access::Write, "rows");
    uint32_t* offs[3] = {&p.offHeads0, &p.offHeads1, &p.offHeads2};
    for (uint32_t k = 0; k < 3; ++k) {
        *offs[k] = list.add(k < parts ? heads[k].floatsAt(0, per) : BufferRange{}, Access::Read, "heads");
    }
    if (auto r = list.status(); !r) return r;
    return rec.dispatch(kHeadMerge, {}, list.bindings(), &p,
                        {strideGroups(rec.device(), per / dh * parts, 64), 1, 1}, "head_merge");
}

Result<void> recordAttentionSoftmaxFwd(Recorder& rec, uint32_t blocks, uint32_t t, uint32_t s,
                                       bool causal, const BufferRange& probs,
                                       const DropoutSite& drop, const BufferRange& dropped) {
    if (auto r = checkDropout(drop); !r) return r;
    const uint32_t rows = blocks * t;
    const uint64_t n = uint64_t(rows) * s;
    if (n == 0) return {};
    AttentionSoftmaxPush p{};
    p.rows = rows;
    p.t = t;
    p.s = s;
    p.causal = causal ? 1 : 0;
    p.p = drop.p;
    p.site = drop.site;
    p.dropOn = drop.enabled ? 1 : 0;
    BindList list(rec.device());
    p.offP = list.add(probs.floatsAt(0, n), Access::ReadWrite, "attention probabilities");
    p.offD = list.add(drop.enabled ? dropped.floatsAt(0, n) : BufferRange{}, Access::Write,
             "dropped attention probabilities");
    p.offSeed = list.add(seedUsed(drop), Access::Read, "dropout seed");
    if (auto r = list.status(); !r) return r;
    return rec.dispatch(kSoftmaxFwd, {}, list.bindings(), &p,
                        {strideGroups(rec.device(), rows, 64), 1, 1}, "attention_softmax_fwd");
}

Result<void> recordAttentionSoftmaxBwd(Recorder& rec, uint32_t blocks, uint32_t t, uint32_t s,
                                       const BufferRange& probs, const DropoutSite& drop,
                                       const BufferRange& grad) {
    if (auto r = checkDropout(drop); !r) return r;
    const uint32_t rows = blocks * t;
    const uint64_t n = uint64_t(rows) * s;
    if (n == 0) return {};
    AttentionSoftmaxPush p{};
    p.rows = rows;
    p.t = t;
    p.s = s;
    p.p = drop.p;
    p.site = drop.site;
    p.dropOn = drop.enabled ? 1 : 0;
    BindList list(rec.device());
    p.offP = list.add(probs.floatsAt(0, n), Access::Read, "attention probabilities");
    p.offD = list.add(grad.floatsAt(0, n), Access::ReadWrite, "attention gradient");
    p.offSeed = list.add(seedUsed(drop), Access::Read, "dropout seed");
    if (auto r = list.status(); !r) return r;
    return rec.dispatch(kSoftmaxBwd, {}, list.bindings(), &p,
                        {strideGroups(rec.device(), rows, 64), 1, 1}, "attention_softmax_bwd");
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
    PositionalPush p{};
    p.n = n;
    p.t = t;
    p.d = d;
    p.learned = table.empty() ? 0 : 1;
    p.p = drop.p;
    p.dropOn = drop.enabled ? 1 : 0;
    BindList list(rec.device());
    p.offIn = list.add(x.floatsAt(0, count), Access::Read, "positional encoding input");
    p.offOut = list.add(y.floatsAt(0, count), Access::Write, "positional encoding output");
    p.offW = list.add(table.empty() ? BufferRange{} : table.floatsAt(0, uint64_t(t) * d), Access::Read,
             "positional table");
    p.offSeed = list.add(seedUsed(drop), Access::Read, "dropout seed");
    if (auto r = list.status(); !r) return r;
    return rec.dispatch(kPositionalFwd, {}, list.bindings(), &p,
                        {strideGroups(rec.device(), count, 64), 1, 1}, "positional_fwd");
}

Result<void> recordPositionalBwd(Recorder& rec, uint32_t n, uint32_t t, uint32_t d,
                                 const BufferRange& dy, const DropoutSite& drop,
                                 const BufferRange& dx, const BufferRange& dtable) {
    if (auto r = checkDropout(drop); !r) return r;
    const uint64_t count = uint64_t(n) * t * d, rows = uint64_t(t) * d;
    if (count == 0 || (dx.empty() && dtable.empty())) return {};
    PositionalPush p{};
    p.n = n;
    p.t = t;
    p.d = d;
    p.p = drop.p;
    p.dropOn = drop.enabled ? 1 : 0;
    p.hasOut = dx.empty() ? 0 : 1;
    p.hasW = dtable.empty() ? 0 : 1;
    BindList list(rec.device());
    p.offIn = list.add(dy.floatsAt(0, count), Access::Read, "positional output gradient");
    p.offOut = list.add(dx.empty() ? BufferRange{} : dx.floatsAt(0, count), Access::ReadWrite,
             "positional input gradient");
    p.offW = list.add(dtable.empty() ? BufferRange{} : dtable.floatsAt(0, rows), Access::ReadWrite,
             "positional table gradient");
    p.offSeed = list.add(seedUsed(drop), Access::Read, "dropout seed");
    if (auto r = list.status(); !r) return r;
    const uint64_t items = (dx.empty() ? 0 : count) + (dtable.empty() ? 0 : rows);
    return rec.dispatch(kPositionalBwd, {}, list.bindings(), &p,
                        {strideGroups(rec.device(), items, 64), 1, 1}, "positional_bwd");
}

}  // namespace strata::gpu::ops

#include "gpu/ops/loss.h"

#include <algorithm>

#include "gpu/ops/bind_list.h"
#include "gpu/ops/common.h"
#include "loss_push.h"
#include "reduce_push.h"

namespace strata::gpu::ops {

namespace {

using shader::CrossEntropyPush;
using shader::PairLossPush;
constexpr VkDescriptorType kStorage = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
const KernelLayout kReduce{"reduce_sum", {kStorage, kStorage}, sizeof(shader::ReducePush)};
const KernelLayout kCeFwd{"cross_entropy_fwd", {kStorage, kStorage, kStorage},
                          sizeof(CrossEntropyPush)};
const KernelLayout kCeBwd{"cross_entropy_bwd", std::vector<VkDescriptorType>(5, kStorage),
                          sizeof(CrossEntropyPush)};
const KernelLayout kMseFwd{"mse_fwd", {kStorage, kStorage, kStorage}, sizeof(PairLossPush)};
const KernelLayout kMseBwd{"mse_bwd", std::vector<VkDescriptorType>(5, kStorage),
                           sizeof(PairLossPush)};
const KernelLayout kBceFwd{"bce_with_logits_fwd", {kStorage, kStorage, kStorage},
                           sizeof(PairLossPush)};
const KernelLayout kBceBwd{"bce_with_logits_bwd", std::vector<VkDescriptorType>(5, kStorage),
                           sizeof(PairLossPush)};

// One workgroup per row, grid-stride over rows beyond the group cap.
uint32_t rowGroups(const Device& dev, uint32_t rows) {
    const uint32_t cap = dev.info().isCpu() ? 64 : dev.info().maxWorkGroupCount[0];
    return std::clamp<uint32_t>(rows, 1, cap);
}

// Cross-entropy rows: CPU devices (lavapipe) give each invocation a whole row, because a
// workgroup barrier there costs more than walking a row alone; GPUs a workgroup per row.
struct RowLayout {
    uint32_t spec[1];
    uint32_t groups;
};
RowLayout rowLayout(const Device& dev, uint32_t rows) {
    if (dev.info().isCpu()) return {{1u}, strideGroups(dev, rows, 64)};
    return {{0u}, rowGroups(dev, rows)};
}

// Forward partial sums: enough workgroups to fill the device, few enough that one workgroup
// sums their results quickly. Fixed per (device, n), so every replay adds in the same order.
uint32_t partialGroups(const Device& dev, uint64_t n) {
    const uint64_t cap = dev.info().isCpu() ? 64 : 1024;
    return uint32_t(std::clamp<uint64_t>((n + 511) / 512, 1, cap));
}

BufferRange optionalPart(const BufferRange& r, uint64_t n) {
    return r.empty() ? r : r.floatsAt(0, n);
}

}  // namespace

Result<void> recordReduceSum(Recorder& rec, uint32_t n, bool ratio, float scale,
                             const BufferRange& values, const BufferRange& out,
                             const std::string& label) {
    BindList b(rec.device());
    shader::ReducePush p{};
    p.n = n;
    p.ratio = ratio ? 1 : 0;
    p.scale = scale;
    p.offA = b.add(values.floatsAt(0, uint64_t(n) * (ratio ? 2 : 1)), Access::Read,
                   "partial sums");
    p.offB = p.offA + n;
    p.offOut = b.add(out.floatsAt(0, 1), Access::Write, "loss");
    if (auto s = b.status(); !s) return s;
    return rec.dispatch(kReduce, {}, b.bindings(), &p, {1, 1, 1}, label);
}

Result<void> recordCrossEntropyFwd(Recorder& rec, const CrossEntropyArgs& a,
                                   const BufferRange& partials, const BufferRange& loss) {
    if (a.rows == 0 || a.classes == 0) return rec.fill(loss.floatsAt(0, 1), 0, "cross_entropy");
    const uint64_t n = uint64_t(a.rows) * a.classes;
    BindList b(rec.device());
    CrossEntropyPush p{};
    p.rows = a.rows;
    p.classes = a.classes;
    p.ignoreIndex = a.ignoreIndex;
    p.smoothing = a.labelSmoothing;
    p.offX = b.add(a.logits.floatsAt(0, n), Access::Read, "cross_entropy logits");
    p.offT = b.add(a.targets.floatsAt(0, a.rows), Access::Read, "cross_entropy targets");
    p.offPartial = b.add(partials.floatsAt(0, crossEntropyPartials(a.rows)), Access::Write,
                         "cross_entropy partial sums");
    if (auto s = b.status(); !s) return s;
    const RowLayout rl = rowLayout(rec.device(), a.rows);
    if (auto r = rec.dispatch(kCeFwd, rl.spec, b.bindings(), &p, {rl.groups, 1, 1},
                              "cross_entropy_fwd rows");
        !r) {
        return r;
    }
    return recordReduceSum(rec, a.rows, true, 1.0f, partials, loss, "cross_entropy_fwd mean");
}

Result<void> recordCrossEntropyBwd(Recorder& rec, const CrossEntropyArgs& a,
                                   const BufferRange& gradLoss, const BufferRange& scale,
                                   const BufferRange& dx) {
    if (a.rows == 0 || a.classes == 0 || dx.empty()) return {};
    const uint64_t n = uint64_t(a.rows) * a.classes;
    const BufferRange x = a.logits.floatsAt(0, n), t = a.targets.floatsAt(0, a.rows);
    const BufferRange g = gradLoss.floatsAt(0, 1), s = scale.floatsAt(0, 1);
    const BufferRange d = dx.floatsAt(0, n);
    CrossEntropyPush p{};
    p.rows = a.rows;
    p.classes = a.classes;
    p.ignoreIndex = a.ignoreIndex;
    p.smoothing = a.labelSmoothing;
    for (uint32_t phase : {0u, 1u}) {
        // Phase 0 reads targets and dLoss and writes the scale; phase 1 reads logits, targets
        // and the scale and adds into dx. Accesses say so, so the recorder puts the barrier
        // between them.
        BindList b(rec.device());
        p.phase = phase;
        p.offX = b.add(x, phase == 1 ? Access::Read : Access::Unused, "cross_entropy logits");
        p.offT = b.add(t, Access::Read, "cross_entropy targets");
        p.offGrad = b.add(g, phase == 0 ? Access::Read : Access::Unused, "loss gradient");
        p.offScale = b.add(s, phase == 0 ? Access::Write : Access::Read, "cross_entropy scale");
        p.offDx = b.add(d, phase == 1 ? Access::ReadWrite : Access::Unused,
                        "cross_entropy logits gradient");
        if (auto st = b.status(); !st) return st;
        const RowLayout rl = rowLayout(rec.device(), a.rows);
        const uint32_t groups = phase == 0 ? 1 : rl.groups;
        if (auto r = rec.dispatch(kCeBwd, rl.spec, b.bindings(), &p, {groups, 1, 1},
                                  phase == 0 ? "cross_entropy_bwd scale" : "cross_entropy_bwd");
            !r) {
            return r;
        }
    }
    return {};
}

uint64_t pairLossPartials(const Device& device, uint64_t n) { return partialGroups(device, n); }

Result<void> recordPairLossFwd(Recorder& rec, PairLoss kind, const BufferRange& x,
                               const BufferRange& t, const BufferRange& partials,
                               const BufferRange& loss) {
    const uint64_t n = x.floats();
    const char* name = kind == PairLoss::Mse ? "mse" : "bce_with_logits";
    if (t.floats() != n) return fail(std::string(name) + " input and target differ in length.");
    if (n == 0) return rec.fill(loss.floatsAt(0, 1), 0, name);
    const uint32_t groups = partialGroups(rec.device(), n);
    BindList b(rec.device());
    PairLossPush p{};
    p.n = uint32_t(n);
    p.offX = b.add(x, Access::Read, "loss input");
    p.offT = b.add(t, Access::Read, "loss target");
    p.offPartial = b.add(partials.floatsAt(0, groups), Access::Write, "loss partial sums");
    if (auto s = b.status(); !s) return s;
    if (auto r = rec.dispatch(kind == PairLoss::Mse ? kMseFwd : kBceFwd, {}, b.bindings(), &p,
                              {groups, 1, 1}, std::string(name) + "_fwd partial");
        !r) {
        return r;
    }
    return recordReduceSum(rec, groups, false, float(1.0 / double(n)), partials, loss,
                           std::string(name) + "_fwd mean");
}

Result<void> recordPairLossBwd(Recorder& rec, PairLoss kind, const BufferRange& x,
                               const BufferRange& t, const BufferRange& gradLoss,
                               const BufferRange& dx, const BufferRange& dt) {
    const uint64_t n = x.floats();
    const char* name = kind == PairLoss::Mse ? "mse" : "bce_with_logits";
    if (n == 0 || (dx.empty() && dt.empty())) return {};
    BindList b(rec.device());
    PairLossPush p{};
    p.n = uint32_t(n);
    p.offX = b.add(x, Access::Read, "loss input");
    p.offT = b.add(t, Access::Read, "loss target");
    p.offGrad = b.add(gradLoss.floatsAt(0, 1), Access::Read, "loss gradient");
    p.offDx = b.addOptional(optionalPart(dx, n), Access::ReadWrite, "loss input gradient");
    p.offDt = b.addOptional(optionalPart(dt, n), Access::ReadWrite, "loss target gradient");
    p.hasDx = dx.empty() ? 0 : 1;
    p.hasDt = dt.empty() ? 0 : 1;
    if (auto s = b.status(); !s) return s;
    return rec.dispatch(kind == PairLoss::Mse ? kMseBwd : kBceBwd, {}, b.bindings(), &p,
                        {strideGroups(rec.device(), n, 64), 1, 1}, std::string(name) + "_bwd");
}

}  // namespace strata::gpu::ops

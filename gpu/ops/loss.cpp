#include "gpu/ops/loss.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gpu/ops/bind_list.h"
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

// Forward partial sums: enough workgroups to fill the device, few enough that one workgroup
// sums their results quickly. Fixed per (device, n), so every replay adds in the same order.
uint32_t partialGroups(const Device& dev, uint64_t n) {
    const uint64_t cap = dev.info().isCpu() ? 64 : 1024;
    return uint32_t(std::clamp<uint64_t>((n + 511) / 512, 1, cap));
}

BufferRange optionalPart(const BufferRange& r, uint64_t first, uint64_t n) {
    return r.empty() ? r : r.floatsAt(first, n);
}

// Floats that bind in one descriptor wherever they start: tensors longer than this are split.
uint64_t chunkFloats(const Device& dev) {
    const uint64_t slack = dev.bindingAlignment() - 4;
    return dev.maxBindingBytes() > slack ? (dev.maxBindingBytes() - slack) / 4 : 0;
}

// Rows of cross_entropy per dispatch: all of them when the logits fit one binding.
Result<uint32_t> rowsPerPart(const Device& dev, const CrossEntropyArgs& a) {
    const uint64_t limit = chunkFloats(dev);
    if (uint64_t(a.rows) * a.classes <= limit) return a.rows;
    if (a.classes > limit) {
        return fail("cross_entropy: one row of " + std::to_string(a.classes) +
                    " class scores is more than the device binds at once (" +
                    byteText(dev.maxBindingBytes()) + ").");
    }
    return uint32_t(limit / a.classes);
}

// The pieces mse and bce_with_logits split n values into, each with its partial sums.
std::vector<uint64_t> pairLossPieces(const Device& dev, uint64_t n) {
    const uint64_t limit = std::max<uint64_t>(chunkFloats(dev) / 64 * 64, 64);
    std::vector<uint64_t> pieces;
    for (uint64_t first = 0; first < n; first += limit) {
        pieces.push_back(std::min(limit, n - first));
    }
    return pieces;
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
    auto perPart = rowsPerPart(rec.device(), a);
    if (!perPart) return perPart.error();
    // Logits larger than one binding: parts of the rows, each writing its rows' partials.
    for (uint32_t r0 = 0; r0 < a.rows; r0 += *perPart) {
        const uint32_t rows = std::min(*perPart, a.rows - r0);
        BindList b(rec.device());
        CrossEntropyPush p{};
        p.rows = rows;
        p.classes = a.classes;
        p.ignoreIndex = a.ignoreIndex;
        p.smoothing = a.labelSmoothing;
        p.countAt = a.rows;
        p.offX = b.add(a.logits.floatsAt(uint64_t(r0) * a.classes, uint64_t(rows) * a.classes),
                       Access::Read, "cross_entropy logits");
        p.offT = b.add(a.targets.floatsAt(r0, rows), Access::Read, "cross_entropy targets");
        p.offPartial = b.add(partials.floatsAt(r0, uint64_t(a.rows) + rows), Access::Write,
                             "cross_entropy partial sums");
        if (auto s = b.status(); !s) return s;
        if (auto r = rec.dispatch(kCeFwd, {}, b.bindings(), &p,
                                  {rowGroups(rec.device(), rows), 1, 1}, "cross_entropy_fwd rows");
            !r) {
            return r;
        }
    }
    return recordReduceSum(rec, a.rows, true, 1.0f, partials, loss, "cross_entropy_fwd mean");
}

Result<void> recordCrossEntropyBwd(Recorder& rec, const CrossEntropyArgs& a,
                                   const BufferRange& gradLoss, const BufferRange& scale,
                                   const BufferRange& dx) {
    if (a.rows == 0 || a.classes == 0 || dx.empty()) return {};
    auto perPart = rowsPerPart(rec.device(), a);
    if (!perPart) return perPart.error();
    const BufferRange g = gradLoss.floatsAt(0, 1), s = scale.floatsAt(0, 1);
    // Phase 0 counts every target once; phase 1 runs over parts of the rows when the logits
    // are larger than one binding.
    for (uint32_t phase : {0u, 1u}) {
        for (uint32_t r0 = 0; r0 < a.rows; r0 += *perPart) {
            const uint32_t rows = phase == 0 ? a.rows : std::min(*perPart, a.rows - r0);
            const uint64_t n = uint64_t(rows) * a.classes;
            const BufferRange x = a.logits.floatsAt(uint64_t(r0) * a.classes, n);
            const BufferRange d = dx.floatsAt(uint64_t(r0) * a.classes, n);
            CrossEntropyPush p{};
            p.rows = rows;
            p.classes = a.classes;
            p.ignoreIndex = a.ignoreIndex;
            p.smoothing = a.labelSmoothing;
            // Phase 0 reads targets and dLoss and writes the scale; phase 1 reads logits,
            // targets and the scale and adds into dx. Accesses say so, so the recorder puts the
            // barrier between them.
            BindList b(rec.device());
            p.phase = phase;
            p.offX = b.add(phase == 1 ? x : BufferRange{}, Access::Read, "cross_entropy logits");
            p.offT = b.add(a.targets.floatsAt(r0, rows), Access::Read, "cross_entropy targets");
            p.offGrad = b.add(g, phase == 0 ? Access::Read : Access::Unused, "loss gradient");
            p.offScale = b.add(s, phase == 0 ? Access::Write : Access::Read,
                               "cross_entropy scale");
            p.offDx = b.add(phase == 1 ? d : BufferRange{}, Access::ReadWrite,
                            "cross_entropy logits gradient");
            if (auto st = b.status(); !st) return st;
            const uint32_t groups = phase == 0 ? 1 : rowGroups(rec.device(), rows);
            if (auto r = rec.dispatch(kCeBwd, {}, b.bindings(), &p, {groups, 1, 1},
                                      phase == 0 ? "cross_entropy_bwd scale"
                                                 : "cross_entropy_bwd");
                !r) {
                return r;
            }
            if (phase == 0) break;
        }
    }
    return {};
}

uint64_t pairLossPartials(const Device& device, uint64_t n) {
    uint64_t total = 0;
    for (uint64_t piece : pairLossPieces(device, n)) total += partialGroups(device, piece);
    return std::max<uint64_t>(total, 1);
}

Result<void> recordPairLossFwd(Recorder& rec, PairLoss kind, const BufferRange& x,
                               const BufferRange& t, const BufferRange& partials,
                               const BufferRange& loss) {
    const uint64_t n = x.floats();
    const char* name = kind == PairLoss::Mse ? "mse" : "bce_with_logits";
    if (t.floats() != n) return fail(std::string(name) + " input and target differ in length.");
    if (n == 0) return rec.fill(loss.floatsAt(0, 1), 0, name);
    // Values larger than one binding: pieces, each writing its own partial sums after the
    // previous piece's; one reduction over all of them.
    uint64_t first = 0, at = 0;
    for (uint64_t piece : pairLossPieces(rec.device(), n)) {
        const uint32_t groups = partialGroups(rec.device(), piece);
        BindList b(rec.device());
        PairLossPush p{};
        p.n = uint32_t(piece);
        p.offX = b.add(x.floatsAt(first, piece), Access::Read, "loss input");
        p.offT = b.add(t.floatsAt(first, piece), Access::Read, "loss target");
        p.offPartial = b.add(partials.floatsAt(at, groups), Access::Write, "loss partial sums");
        if (auto s = b.status(); !s) return s;
        if (auto r = rec.dispatch(kind == PairLoss::Mse ? kMseFwd : kBceFwd, {}, b.bindings(),
                                  &p, {groups, 1, 1}, std::string(name) + "_fwd partial");
            !r) {
            return r;
        }
        first += piece;
        at += groups;
    }
    return recordReduceSum(rec, uint32_t(at), false, float(1.0 / double(n)), partials, loss,
                           std::string(name) + "_fwd mean");
}

Result<void> recordPairLossBwd(Recorder& rec, PairLoss kind, const BufferRange& x,
                               const BufferRange& t, const BufferRange& gradLoss,
                               const BufferRange& dx, const BufferRange& dt) {
    const uint64_t n = x.floats();
    const char* name = kind == PairLoss::Mse ? "mse" : "bce_with_logits";
    if (n == 0 || (dx.empty() && dt.empty())) return {};
    uint64_t first = 0;
    for (uint64_t piece : pairLossPieces(rec.device(), n)) {
        BindList b(rec.device());
        PairLossPush p{};
        p.n = uint32_t(piece);
        p.total = uint32_t(n);
        p.offX = b.add(x.floatsAt(first, piece), Access::Read, "loss input");
        p.offT = b.add(t.floatsAt(first, piece), Access::Read, "loss target");
        p.offGrad = b.add(gradLoss.floatsAt(0, 1), Access::Read, "loss gradient");
        p.offDx = b.addOptional(optionalPart(dx, first, piece), Access::ReadWrite,
                                "loss input gradient");
        p.offDt = b.addOptional(optionalPart(dt, first, piece), Access::ReadWrite,
                                "loss target gradient");
        p.hasDx = dx.empty() ? 0 : 1;
        p.hasDt = dt.empty() ? 0 : 1;
        if (auto s = b.status(); !s) return s;
        if (auto r = rec.dispatch(kind == PairLoss::Mse ? kMseBwd : kBceBwd, {}, b.bindings(),
                                  &p, {strideGroups(rec.device(), piece, 64), 1, 1},
                                  std::string(name) + "_bwd");
            !r) {
            return r;
        }
        first += piece;
    }
    return {};
}

}  // namespace strata::gpu::ops

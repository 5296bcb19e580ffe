#include "gpu/ops/broadcast.h"

#include <array>

#include "broadcast_push.h"
#include "gpu/ops/common.h"

namespace strata::gpu::ops {

namespace {

using shader::BroadcastAddPush;
using shader::ConcatPush;
constexpr VkDescriptorType kStorage = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
constexpr size_t kSlots = STRATA_MAX_SLOTS;
const std::vector<VkDescriptorType> kSlotBindings(kSlots + 1, kStorage);
const KernelLayout kAddFwd{"add_fwd", kSlotBindings, sizeof(BroadcastAddPush)};
const KernelLayout kAddBwd{"add_bwd", kSlotBindings, sizeof(BroadcastAddPush)};
const KernelLayout kConcatFwd{"concat_fwd", kSlotBindings, sizeof(ConcatPush)};
const KernelLayout kConcatBwd{"concat_bwd", kSlotBindings, sizeof(ConcatPush)};

// The bindings of one variadic dispatch: the slots in use, placeholders for the rest (the
// shader never reads them), then the output or its gradient at binding 8.
struct SlotBindings {
    std::vector<Binding> bindings;
    std::array<uint32_t, kSlots> offsets{};
    uint32_t offY = 0;
};

Result<SlotBindings> bindSlots(const Device& dev, const std::vector<BufferRange>& slots,
                               Access slotAccess, const BufferRange& y, Access yAccess,
                               const std::string& label) {
    SlotBindings s;
    for (size_t k = 0; k < slots.size(); ++k) {
        auto b = bindFloats(dev, slots[k], label.c_str());
        if (!b) return b.error();
        s.bindings.push_back({b->range, slotAccess, slots[k]});
        s.offsets[k] = b->offset;
    }
    const Binding unused{s.bindings[0].range, Access::Unused, {}};
    while (s.bindings.size() < kSlots) s.bindings.push_back(unused);
    auto by = bindFloats(dev, y, label.c_str());
    if (!by) return by.error();
    s.bindings.push_back({by->range, yAccess, y});
    s.offY = by->offset;
    return s;
}

// Splits the slots that need a gradient into groups whose memory does not overlap (an add or
// concat fed the same tensor twice): one dispatch per group, so no float has two writers.
std::vector<std::vector<size_t>> disjointGroups(const std::vector<GpuTensor>& dxs) {
    std::vector<std::vector<size_t>> groups;
    for (size_t k = 0; k < dxs.size(); ++k) {
        if (!dxs[k].present()) continue;
        bool placed = false;
        for (auto& g : groups) {
            bool clash = false;
            for (size_t other : g) clash = clash || dxs[other].range.overlaps(dxs[k].range);
            if (!clash) {
                g.push_back(k);
                placed = true;
                break;
            }
        }
        if (!placed) groups.push_back({k});
    }
    return groups;
}

Result<void> checkCount(size_t count, const std::string& label) {
    if (count < 1 || count > kSlots) {
        return fail("'" + label + "' takes 1 to 8 inputs, not " + std::to_string(count) + ".");
    }
    return {};
}

// ---- add ----

// The output dimensions with sizes of 1 dropped and neighbours merged where every operand
// broadcasts alike, and for each operand the merged dimensions it is broadcast along.
struct Broadcast {
    std::vector<uint32_t> dims;
    std::vector<uint32_t> masks;  // per operand: bit d set when broadcast along dims[d]
};

Result<Broadcast> mergeBroadcast(const Shape& out, const std::vector<Shape>& ins,
                                 const std::string& label) {
    const int rank = out.rank();
    std::vector<std::vector<bool>> broadcast(ins.size(), std::vector<bool>(size_t(rank), false));
    for (size_t k = 0; k < ins.size(); ++k) {
        if (ins[k].rank() > rank) {
            return fail("'" + label + "': input " + ins[k].str() + " has more dimensions than " +
                        "the output " + out.str() + ".");
        }
        for (int j = 1; j <= rank; ++j) {
            const int64_t d = j <= ins[k].rank() ? ins[k][-j] : 1;
            if (d != out[-j] && d != 1) {
                return fail("'" + label + "': input " + ins[k].str() +
                            " does not broadcast to " + out.str() + ".");
            }
            broadcast[k][size_t(rank - j)] = d == 1 && out[-j] != 1;
        }
    }
    Broadcast b;
    std::vector<std::vector<bool>> kept(ins.size());  // per operand, per merged dim
    for (int d = 0; d < rank; ++d) {
        if (out[d] == 1) continue;
        bool same = !b.dims.empty();
        for (size_t k = 0; same && k < ins.size(); ++k) {
            same = kept[k].back() == broadcast[k][size_t(d)];
        }
        if (same) {
            b.dims.back() *= uint32_t(out[d]);
        } else {
            b.dims.push_back(uint32_t(out[d]));
            for (size_t k = 0; k < ins.size(); ++k) kept[k].push_back(broadcast[k][size_t(d)]);
        }
    }
    if (b.dims.size() > STRATA_MAX_BROADCAST_RANK) {
        return fail("'" + label + "' broadcasts over more than 8 separate dimensions.");
    }
    for (size_t k = 0; k < ins.size(); ++k) {
        uint32_t mask = 0;
        for (size_t d = 0; d < kept[k].size(); ++d) mask |= uint32_t(kept[k][d]) << d;
        b.masks.push_back(mask);
    }
    return b;
}

BroadcastAddPush addPush(const Broadcast& b) {
    BroadcastAddPush p{};
    p.rank = uint32_t(b.dims.size());
    p.count = uint32_t(b.masks.size());
    for (size_t d = 0; d < b.dims.size(); ++d) p.dims[d] = b.dims[d];
    for (size_t k = 0; k < b.masks.size(); ++k) p.broadcastBits[k / 4] |= b.masks[k] << (k % 4 * 8);
    return p;
}

// ---- concat ----

struct ConcatLayout {
    uint64_t outer = 1;   // product of the dimensions before the axis
    uint64_t rowOut = 0;  // output elements per outer index
    std::vector<uint32_t> at;
};

Result<ConcatLayout> concatLayout(int axis, const Shape& y, const std::vector<Shape>& shapes,
                                  const std::string& label) {
    if (axis < 0 || axis >= y.rank()) {
        return fail("'" + label + "' has axis " + std::to_string(axis) + " outside " + y.str() +
                    ".");
    }
    ConcatLayout c;
    uint64_t inner = 1;
    for (int d = 0; d < y.rank(); ++d) {
        if (d < axis) c.outer *= uint64_t(y[d]);
        if (d > axis) inner *= uint64_t(y[d]);
    }
    for (const Shape& s : shapes) {
        if (s.rank() != y.rank() || s.numel() % int64_t(c.outer) != 0) {
            return fail("'" + label + "': input " + s.str() + " does not fit the output " +
                        y.str() + ".");
        }
        c.at.push_back(uint32_t(c.rowOut));
        c.rowOut += uint64_t(s[axis]) * inner;
    }
    if (c.rowOut * c.outer != uint64_t(y.numel())) {
        return fail("'" + label + "': the inputs do not add up to the output " + y.str() + ".");
    }
    return c;
}

ConcatPush concatPush(const ConcatLayout& c, const SlotBindings& s) {
    ConcatPush p{};
    p.n = uint32_t(c.outer * c.rowOut);
    p.count = uint32_t(c.at.size());
    p.rowOut = uint32_t(c.rowOut);
    p.offY = s.offY;
    for (size_t k = 0; k < c.at.size(); ++k) {
        p.offX[k] = s.offsets[k];
        p.at[k] = c.at[k];
    }
    return p;
}

}  // namespace

Result<void> recordAddFwd(Recorder& rec, const std::vector<GpuTensor>& xs, const GpuTensor& y,
                          const std::string& label) {
    if (auto r = checkCount(xs.size(), label); !r) return r;
    std::vector<Shape> shapes;
    std::vector<BufferRange> ranges;
    for (const auto& x : xs) {
        shapes.push_back(x.shape);
        ranges.push_back(x.range);
    }
    auto b = mergeBroadcast(y.shape, shapes, label);
    if (!b) return b.error();
    const Device& dev = rec.device();
    auto s = bindSlots(dev, ranges, Access::Read, y.range, Access::Write, label);
    if (!s) return s.error();
    BroadcastAddPush p = addPush(*b);
    p.n = uint32_t(y.numel());
    p.offY = s->offY;
    for (size_t k = 0; k < xs.size(); ++k) p.offX[k] = s->offsets[k];
    return rec.dispatch(kAddFwd, {}, s->bindings, &p, {strideGroups(dev, p.n, 64), 1, 1}, label);
}

Result<void> recordAddBwd(Recorder& rec, const GpuTensor& dy, const std::vector<GpuTensor>& dxs,
                          const std::string& label) {
    if (auto r = checkCount(dxs.size(), label); !r) return r;
    const Device& dev = rec.device();
    for (const auto& group : disjointGroups(dxs)) {
        std::vector<Shape> shapes;
        std::vector<BufferRange> ranges;
        for (size_t k : group) {
            shapes.push_back(dxs[k].shape);
            ranges.push_back(dxs[k].range);
        }
        auto b = mergeBroadcast(dy.shape, shapes, label);
        if (!b) return b.error();
        auto s = bindSlots(dev, ranges, Access::ReadWrite, dy.range, Access::Read, label);
        if (!s) return s.error();
        BroadcastAddPush p = addPush(*b);
        p.offY = s->offY;
        uint64_t n = 0;
        for (size_t k = 0; k < group.size(); ++k) {
            p.offX[k] = s->offsets[k];
            p.start[k] = uint32_t(n);
            n += uint64_t(shapes[k].numel());
        }
        p.n = uint32_t(n);
        if (auto r = rec.dispatch(kAddBwd, {}, s->bindings, &p, {strideGroups(dev, n, 64), 1, 1},
                                  label);
            !r) {
            return r;
        }
    }
    return {};
}

Result<void> recordConcatFwd(Recorder& rec, int axis, const std::vector<GpuTensor>& xs,
                             const GpuTensor& y, const std::string& label) {
    if (auto r = checkCount(xs.size(), label); !r) return r;
    std::vector<Shape> shapes;
    std::vector<BufferRange> ranges;
    for (const auto& x : xs) {
        shapes.push_back(x.shape);
        ranges.push_back(x.range);
    }
    auto c = concatLayout(axis, y.shape, shapes, label);
    if (!c) return c.error();
    const Device& dev = rec.device();
    auto s = bindSlots(dev, ranges, Access::Read, y.range, Access::Write, label);
    if (!s) return s.error();
    const ConcatPush p = concatPush(*c, *s);
    return rec.dispatch(kConcatFwd, {}, s->bindings, &p, {strideGroups(dev, p.n, 64), 1, 1},
                        label);
}

Result<void> recordConcatBwd(Recorder& rec, int axis, const GpuTensor& dy,
                             const std::vector<Shape>& shapes, const std::vector<GpuTensor>& dxs,
                             const std::string& label) {
    if (auto r = checkCount(shapes.size(), label); !r) return r;
    if (dxs.size() != shapes.size()) return fail("'" + label + "': one gradient per input.");
    auto c = concatLayout(axis, dy.shape, shapes, label);
    if (!c) return c.error();
    const Device& dev = rec.device();
    for (const auto& group : disjointGroups(dxs)) {
        // Every slot keeps its place (the output row layout needs them all); slots outside this
        // group are bound to a member's range and marked absent.
        std::vector<BufferRange> ranges(shapes.size(), dxs[group[0]].range);
        uint32_t present = 0;
        for (size_t k : group) {
            ranges[k] = dxs[k].range;
            present |= 1u << k;
        }
        auto s = bindSlots(dev, ranges, Access::ReadWrite, dy.range, Access::Read, label);
        if (!s) return s.error();
        for (size_t k = 0; k < shapes.size(); ++k) {
            if (!(present >> k & 1u)) s->bindings[k].access = Access::Unused;
        }
        ConcatPush p = concatPush(*c, *s);
        p.present = present;
        if (auto r = rec.dispatch(kConcatBwd, {}, s->bindings, &p,
                                  {strideGroups(dev, p.n, 64), 1, 1}, label);
            !r) {
            return r;
        }
    }
    return {};
}

}  // namespace strata::gpu::ops

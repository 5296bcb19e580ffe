#include "gpu/ops/broadcast.h"

#include <algorithm>
#include <array>
#include <bit>

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

// ---- splitting across bindings ----

// Whether a range binds in one descriptor from the aligned offset below it.
bool fitsOneBinding(const Device& dev, const BufferRange& r) {
    return r.offset % dev.bindingAlignment() + r.size <= dev.maxBindingBytes();
}

bool allFit(const Device& dev, const std::vector<BufferRange>& ranges) {
    for (const auto& r : ranges) {
        if (!r.empty() && !fitsOneBinding(dev, r)) return false;
    }
    return true;
}

// Floats that bind in one descriptor wherever they start.
Result<uint64_t> chunkFloats(const Device& dev, const std::string& label) {
    const uint64_t slack = dev.bindingAlignment() - 4;
    const uint64_t limit = dev.maxBindingBytes() > slack ? (dev.maxBindingBytes() - slack) / 4 : 0;
    if (limit == 0) return fail("'" + label + "': the device's binding limit is too small.");
    return limit;
}

// One block of the output that every operand reaches through a contiguous range: fixed indices
// along the merged dimensions before `axis`, a run of `len` along it, everything after it.
struct AddChunk {
    uint64_t outFirst = 0;         // the block's first output element
    Broadcast local;               // the block's dimensions: (len, dims after axis)
    std::vector<uint64_t> xFirst;  // per operand: its first element the block reads
    std::vector<uint64_t> xCount;  // per operand: how many of its elements the block reads
};

// Blocks of at most `limit` output elements (one block: the whole output, when `whole`). An
// operand broadcast along a dimension has no extent there, so its part of a block is never
// longer than the block.
std::vector<AddChunk> addChunks(const Broadcast& b, uint64_t limit, bool whole) {
    const size_t rank = b.dims.size();
    std::vector<AddChunk> chunks;
    if (rank == 0) {  // every operand is one element
        AddChunk c;
        c.local = b;
        c.xFirst.assign(b.masks.size(), 0);
        c.xCount.assign(b.masks.size(), 1);
        return {c};
    }
    // The outermost axis whose trailing block fits; a run along it as long as still fits.
    size_t axis = 0;
    uint64_t inner = 1;
    for (size_t d = 1; d < rank; ++d) inner *= b.dims[d];
    while (!whole && inner > limit) inner /= b.dims[++axis];
    const uint64_t run = whole ? b.dims[0] : std::max<uint64_t>(1, limit / inner);
    // Per operand, the element stride of each merged dimension (0 where broadcast).
    std::vector<std::vector<uint64_t>> strides(b.masks.size(), std::vector<uint64_t>(rank, 0));
    for (size_t k = 0; k < b.masks.size(); ++k) {
        uint64_t s = 1;
        for (size_t d = rank; d-- > 0;) {
            if (b.masks[k] >> d & 1u) continue;
            strides[k][d] = s;
            s *= b.dims[d];
        }
    }
    uint64_t outer = 1;
    for (size_t d = 0; d < axis; ++d) outer *= b.dims[d];
    for (uint64_t o = 0; o < outer; ++o) {
        for (uint64_t a = 0; a < b.dims[axis]; a += run) {
            AddChunk c;
            const uint64_t len = std::min<uint64_t>(run, b.dims[axis] - a);
            c.outFirst = (o * b.dims[axis] + a) * inner;
            c.local.dims.push_back(uint32_t(len));
            for (size_t d = axis + 1; d < rank; ++d) c.local.dims.push_back(b.dims[d]);
            for (size_t k = 0; k < b.masks.size(); ++k) {
                c.local.masks.push_back(b.masks[k] >> axis);
                uint64_t first = a * strides[k][axis], rest = o, count = 1;
                for (size_t d = axis; d-- > 0;) {
                    first += rest % b.dims[d] * strides[k][d];
                    rest /= b.dims[d];
                }
                for (size_t d = 0; d < c.local.dims.size(); ++d) {
                    if (!(c.local.masks[k] >> d & 1u)) count *= c.local.dims[d];
                }
                c.xFirst.push_back(first);
                c.xCount.push_back(count);
            }
            chunks.push_back(std::move(c));
        }
    }
    return chunks;
}

// ---- concat ----

struct ConcatLayout {
    uint64_t outer = 1;   // product of the dimensions before the axis
    uint64_t rowOut = 0;  // output elements per outer index
    std::vector<uint64_t> at;   // where input k's piece starts inside an output row
    std::vector<uint64_t> len;  // its length there
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
        c.at.push_back(c.rowOut);
        c.len.push_back(uint64_t(s[axis]) * inner);
        c.rowOut += c.len.back();
    }
    if (c.rowOut * c.outer != uint64_t(y.numel())) {
        return fail("'" + label + "': the inputs do not add up to the output " + y.str() + ".");
    }
    return c;
}

// A block of the output: `rows` whole rows from `row`, or, when a row is longer than a binding
// holds, columns [col, col + cols) of one row. Each input's part of it is contiguous.
struct ConcatPiece {
    uint64_t row = 0, rows = 0, col = 0, cols = 0;
    std::vector<size_t> slots;           // inputs with elements in the piece, in order
    std::vector<uint64_t> at;            // per slot: where its part starts in the piece's row
    std::vector<uint64_t> xFirst;        // per slot: its first element in the piece
    std::vector<uint64_t> xCount;        // per slot: how many of its elements are in it
};

std::vector<ConcatPiece> concatPieces(const ConcatLayout& c, uint64_t limit, bool whole) {
    std::vector<ConcatPiece> pieces;
    auto finish = [&](ConcatPiece p) {
        const bool fullRows = p.cols == c.rowOut;
        for (size_t k = 0; k < c.at.size(); ++k) {
            const uint64_t lo = std::max(c.at[k], p.col);
            const uint64_t hi = std::min(c.at[k] + c.len[k], p.col + p.cols);
            if (!fullRows && lo >= hi) continue;  // whole rows keep every input, as ever
            p.slots.push_back(k);
            p.at.push_back(lo - p.col);
            p.xFirst.push_back(fullRows ? p.row * c.len[k] : p.row * c.len[k] + lo - c.at[k]);
            p.xCount.push_back(fullRows ? p.rows * c.len[k] : hi - lo);
        }
        pieces.push_back(std::move(p));
    };
    if (whole || c.rowOut <= limit) {
        const uint64_t rows = whole ? c.outer : std::max<uint64_t>(1, limit / c.rowOut);
        for (uint64_t r = 0; r < c.outer; r += rows) {
            finish({.row = r, .rows = std::min(rows, c.outer - r), .col = 0, .cols = c.rowOut});
        }
    } else {
        for (uint64_t r = 0; r < c.outer; ++r) {
            for (uint64_t col = 0; col < c.rowOut; col += limit) {
                finish({.row = r, .rows = 1, .col = col, .cols = std::min(limit, c.rowOut - col)});
            }
        }
    }
    return pieces;
}

ConcatPush concatPush(const ConcatPiece& piece, const SlotBindings& s) {
    ConcatPush p{};
    p.n = uint32_t(piece.rows * piece.cols);
    p.count = uint32_t(piece.slots.size());
    p.rowOut = uint32_t(piece.cols);
    p.offY = s.offY;
    for (size_t j = 0; j < piece.slots.size(); ++j) {
        p.offX[j] = s.offsets[j];
        p.at[j] = uint32_t(piece.at[j]);
    }
    return p;
}

}  // namespace

Result<void> recordAddFwd(Recorder& rec, const std::vector<GpuTensor>& xs, const GpuTensor& y,
                          const std::string& label) {
    if (auto r = checkCount(xs.size(), label); !r) return r;
    std::vector<Shape> shapes;
    std::vector<BufferRange> ranges{y.range};
    for (const auto& x : xs) {
        shapes.push_back(x.shape);
        ranges.push_back(x.range);
    }
    auto b = mergeBroadcast(y.shape, shapes, label);
    if (!b) return b.error();
    const Device& dev = rec.device();
    auto limit = chunkFloats(dev, label);
    if (!limit) return limit.error();
    // Output blocks that every operand reaches through one binding: one block (one dispatch)
    // whenever the tensors fit the device's bindings whole.
    for (const AddChunk& c : addChunks(*b, *limit, allFit(dev, ranges))) {
        std::vector<BufferRange> parts;
        for (size_t k = 0; k < xs.size(); ++k) {
            parts.push_back(xs[k].range.floatsAt(c.xFirst[k], c.xCount[k]));
        }
        BroadcastAddPush p = addPush(c.local);
        p.n = 1;
        for (uint32_t d : c.local.dims) p.n *= d;
        auto s = bindSlots(dev, parts, Access::Read, y.range.floatsAt(c.outFirst, p.n),
                           Access::Write, label);
        if (!s) return s.error();
        p.offY = s->offY;
        for (size_t k = 0; k < xs.size(); ++k) p.offX[k] = s->offsets[k];
        if (auto r = rec.dispatch(kAddFwd, {}, s->bindings, &p,
                                  {strideGroups(dev, p.n, 64), 1, 1}, label);
            !r) {
            return r;
        }
    }
    return {};
}

Result<void> recordAddBwd(Recorder& rec, const GpuTensor& dy, const std::vector<GpuTensor>& dxs,
                          const std::string& label) {
    if (auto r = checkCount(dxs.size(), label); !r) return r;
    const Device& dev = rec.device();
    auto limit = chunkFloats(dev, label);
    if (!limit) return limit.error();
    for (const auto& group : disjointGroups(dxs)) {
        std::vector<Shape> shapes;
        std::vector<BufferRange> ranges{dy.range};
        for (size_t k : group) {
            shapes.push_back(dxs[k].shape);
            ranges.push_back(dxs[k].range);
        }
        auto b = mergeBroadcast(dy.shape, shapes, label);
        if (!b) return b.error();
        // Blocks of dy in increasing order, each adding its share into the gradients: a
        // gradient element folds its dy values in the CPU's order whatever the blocks.
        for (const AddChunk& c : addChunks(*b, *limit, allFit(dev, ranges))) {
            std::vector<BufferRange> parts;
            for (size_t j = 0; j < group.size(); ++j) {
                parts.push_back(dxs[group[j]].range.floatsAt(c.xFirst[j], c.xCount[j]));
            }
            uint64_t dyCount = 1;
            for (uint32_t d : c.local.dims) dyCount *= d;
            const BufferRange grad = dy.range.floatsAt(c.outFirst, dyCount);
            auto s = bindSlots(dev, parts, Access::ReadWrite, grad, Access::Read, label);
            if (!s) return s.error();
            BroadcastAddPush p = addPush(c.local);
            p.offY = s->offY;
            uint64_t n = 0;
            for (size_t j = 0; j < group.size(); ++j) {
                p.offX[j] = s->offsets[j];
                p.start[j] = uint32_t(n);
                n += c.xCount[j];
            }
            p.n = uint32_t(n);
            if (auto r = rec.dispatch(kAddBwd, {}, s->bindings, &p,
                                      {strideGroups(dev, n, 64), 1, 1}, label);
                !r) {
                return r;
            }
        }
    }
    return {};
}

Result<void> recordConcatFwd(Recorder& rec, int axis, const std::vector<GpuTensor>& xs,
                             const GpuTensor& y, const std::string& label) {
    if (auto r = checkCount(xs.size(), label); !r) return r;
    std::vector<Shape> shapes;
    std::vector<BufferRange> ranges{y.range};
    for (const auto& x : xs) {
        shapes.push_back(x.shape);
        ranges.push_back(x.range);
    }
    auto c = concatLayout(axis, y.shape, shapes, label);
    if (!c) return c.error();
    const Device& dev = rec.device();
    auto limit = chunkFloats(dev, label);
    if (!limit) return limit.error();
    for (const ConcatPiece& piece : concatPieces(*c, *limit, allFit(dev, ranges))) {
        std::vector<BufferRange> parts;
        for (size_t j = 0; j < piece.slots.size(); ++j) {
            parts.push_back(xs[piece.slots[j]].range.floatsAt(piece.xFirst[j], piece.xCount[j]));
        }
        const BufferRange out =
            y.range.floatsAt(piece.row * c->rowOut + piece.col, piece.rows * piece.cols);
        auto s = bindSlots(dev, parts, Access::Read, out, Access::Write, label);
        if (!s) return s.error();
        const ConcatPush p = concatPush(piece, *s);
        if (auto r = rec.dispatch(kConcatFwd, {}, s->bindings, &p,
                                  {strideGroups(dev, p.n, 64), 1, 1}, label);
            !r) {
            return r;
        }
    }
    return {};
}

Result<void> recordConcatBwd(Recorder& rec, int axis, const GpuTensor& dy,
                             const std::vector<Shape>& shapes, const std::vector<GpuTensor>& dxs,
                             const std::string& label) {
    if (auto r = checkCount(shapes.size(), label); !r) return r;
    if (dxs.size() != shapes.size()) return fail("'" + label + "': one gradient per input.");
    auto c = concatLayout(axis, dy.shape, shapes, label);
    if (!c) return c.error();
    const Device& dev = rec.device();
    auto limit = chunkFloats(dev, label);
    if (!limit) return limit.error();
    std::vector<BufferRange> ranges{dy.range};
    for (const auto& dx : dxs) ranges.push_back(dx.range);
    const auto pieces = concatPieces(*c, *limit, allFit(dev, ranges));
    for (const auto& group : disjointGroups(dxs)) {
        for (const ConcatPiece& piece : pieces) {
            // Every input with elements in the piece keeps its slot (the row layout needs them
            // all); those outside this group are bound to a member's part and marked absent.
            std::vector<BufferRange> parts(piece.slots.size());
            uint32_t present = 0;
            for (size_t j = 0; j < piece.slots.size(); ++j) {
                const size_t k = piece.slots[j];
                if (std::find(group.begin(), group.end(), k) == group.end()) continue;
                parts[j] = dxs[k].range.floatsAt(piece.xFirst[j], piece.xCount[j]);
                present |= 1u << j;
            }
            if (present == 0) continue;
            const BufferRange member = parts[size_t(std::countr_zero(present))];
            for (auto& part : parts) {
                if (part.empty()) part = member;
            }
            const BufferRange grad =
                dy.range.floatsAt(piece.row * c->rowOut + piece.col, piece.rows * piece.cols);
            auto s = bindSlots(dev, parts, Access::ReadWrite, grad, Access::Read, label);
            if (!s) return s.error();
            for (size_t j = 0; j < parts.size(); ++j) {
                if (!(present >> j & 1u)) s->bindings[j].access = Access::Unused;
            }
            ConcatPush p = concatPush(piece, *s);
            p.present = present;
            if (auto r = rec.dispatch(kConcatBwd, {}, s->bindings, &p,
                                      {strideGroups(dev, p.n, 64), 1, 1}, label);
                !r) {
                return r;
            }
        }
    }
    return {};
}

}  // namespace strata::gpu::ops

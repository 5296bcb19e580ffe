#include "gpu/ops/embedding.h"

#include <algorithm>

#include "gpu/ops/common.h"
#include "rnn_push.h"

namespace strata::gpu::ops {

namespace {

using shader::EmbeddingPush;
constexpr VkDescriptorType kStorage = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
const KernelLayout kFwd{"embedding_fwd", {kStorage, kStorage, kStorage}, sizeof(EmbeddingPush)};
const KernelLayout kLinks{"embedding_links", {kStorage, kStorage}, sizeof(EmbeddingPush)};
const KernelLayout kBwd{"embedding_bwd", {kStorage, kStorage, kStorage, kStorage},
                        sizeof(EmbeddingPush)};

bool fitsOneBinding(const Device& dev, const BufferRange& r) {
    return r.offset % dev.bindingAlignment() + r.size <= dev.maxBindingBytes();
}

// Positions per dispatch: all of them when the per-position tensors fit one binding, else as
// many as fit one wherever they start. The weight (or its gradient) is bound whole.
uint32_t positionsPerPart(const Device& dev, uint32_t positions, uint32_t dim,
                          std::initializer_list<BufferRange> perPosition) {
    bool whole = true;
    for (const auto& r : perPosition) whole = whole && fitsOneBinding(dev, r);
    if (whole) return positions;
    const uint64_t slack = dev.bindingAlignment() - 4;
    const uint64_t limit = dev.maxBindingBytes() > slack ? (dev.maxBindingBytes() - slack) / 4 : 0;
    // dim floats of output and 2 of links per position; at least one (then refused by binding).
    return uint32_t(std::clamp<uint64_t>(limit / std::max<uint32_t>(dim, 2), 1, positions));
}

Result<void> recordFwdPart(Recorder& rec, uint32_t rows, uint32_t dim, const BufferRange& ids,
                           const BufferRange& weight, const BufferRange& y,
                           const std::string& label) {
    const Device& dev = rec.device();
    const uint32_t positions = uint32_t(ids.floats());
    auto bi = bindFloats(dev, ids, "embedding ids");
    if (!bi) return bi.error();
    auto bw = bindFloats(dev, weight, "embedding weight");
    if (!bw) return bw.error();
    auto by = bindFloats(dev, y, "embedding output");
    if (!by) return by.error();
    EmbeddingPush p{positions, dim, rows, bi->offset, bw->offset, by->offset, 0};
    const Binding bindings[] = {{bi->range, Access::Read, ids},
                                {bw->range, Access::Read, weight},
                                {by->range, Access::Write, y}};
    return rec.dispatch(kFwd, {}, bindings, &p,
                        {strideGroups(dev, uint64_t(positions) * dim, 64), 1, 1}, label);
}

Result<void> recordBwdPart(Recorder& rec, uint32_t rows, uint32_t dim, const BufferRange& ids,
                           const BufferRange& dy, const BufferRange& dw, const BufferRange& links,
                           const std::string& label) {
    const Device& dev = rec.device();
    const uint32_t positions = uint32_t(ids.floats());
    const BufferRange linksUsed = links.floatsAt(0, 2ull * positions);
    auto bi = bindFloats(dev, ids, "embedding ids");
    if (!bi) return bi.error();
    auto bl = bindFloats(dev, linksUsed, "embedding links");
    if (!bl) return bl.error();
    auto bdy = bindFloats(dev, dy, "embedding output gradient");
    if (!bdy) return bdy.error();
    auto bdw = bindFloats(dev, dw, "embedding weight gradient");
    if (!bdw) return bdw.error();
    EmbeddingPush p{positions, dim, rows, bi->offset, bdw->offset, bdy->offset, bl->offset};
    // Every "next" link starts as none; a position with a successor gets it in the links pass.
    if (auto r = rec.fill(linksUsed.floatsAt(0, positions), 0xffffffffu, label + " links init");
        !r) {
        return r;
    }
    const Binding linkBindings[] = {{bi->range, Access::Read, ids},
                                    {bl->range, Access::ReadWrite, linksUsed}};
    if (auto r = rec.dispatch(kLinks, {}, linkBindings, &p,
                              {strideGroups(dev, positions, 64), 1, 1}, label + " links");
        !r) {
        return r;
    }
    const Binding bindings[] = {{bi->range, Access::Read, ids},
                                {bl->range, Access::Read, linksUsed},
                                {bdy->range, Access::Read, dy},
                                {bdw->range, Access::ReadWrite, dw}};
    return rec.dispatch(kBwd, {}, bindings, &p,
                        {strideGroups(dev, uint64_t(positions) * dim, 64), 1, 1}, label);
}

}  // namespace

Result<void> recordEmbeddingFwd(Recorder& rec, uint32_t rows, uint32_t dim,
                                const BufferRange& ids, const BufferRange& weight,
                                const BufferRange& y, const std::string& label) {
    const uint32_t positions = uint32_t(ids.floats());
    if (positions == 0 || dim == 0) return {};
    const uint32_t perPart = positionsPerPart(rec.device(), positions, dim, {ids, y});
    for (uint32_t p0 = 0; p0 < positions; p0 += perPart) {
        const uint32_t count = std::min(perPart, positions - p0);
        if (auto r = recordFwdPart(rec, rows, dim, ids.floatsAt(p0, count), weight,
                                   y.floatsAt(uint64_t(p0) * dim, uint64_t(count) * dim), label);
            !r) {
            return r;
        }
    }
    return {};
}

Result<void> recordEmbeddingBwd(Recorder& rec, uint32_t rows, uint32_t dim,
                                const BufferRange& ids, const BufferRange& dy,
                                const BufferRange& dw, const BufferRange& links,
                                const std::string& label) {
    const uint32_t positions = uint32_t(ids.floats());
    if (positions == 0 || dim == 0) return {};
    const uint32_t perPart = positionsPerPart(rec.device(), positions, dim,
                                              {ids, dy, links.floatsAt(0, 2ull * positions)});
    // Parts of the positions in increasing order, each chaining its own positions and adding
    // them after the previous parts': every row still sums its positions in the CPU's order.
    for (uint32_t p0 = 0; p0 < positions; p0 += perPart) {
        const uint32_t count = std::min(perPart, positions - p0);
        if (auto r = recordBwdPart(rec, rows, dim, ids.floatsAt(p0, count),
                                   dy.floatsAt(uint64_t(p0) * dim, uint64_t(count) * dim), dw,
                                   links, label);
            !r) {
            return r;
        }
    }
    return {};
}

}  // namespace strata::gpu::ops

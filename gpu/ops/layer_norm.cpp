#include "gpu/ops/layer_norm.h"

#include <algorithm>
#include <string>

#include "gpu/ops/attention.h"
#include "gpu/ops/common.h"
#include "layer_norm_push.h"

namespace strata::gpu::ops {

namespace {

using shader::LayerNormPush;
constexpr VkDescriptorType kStorage = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
const KernelLayout kFwd{"layer_norm_fwd", std::vector<VkDescriptorType>(6, kStorage),
                        sizeof(LayerNormPush)};
const KernelLayout kBwd{"layer_norm_bwd", std::vector<VkDescriptorType>(8, kStorage),
                        sizeof(LayerNormPush)};

LayerNormPush pushFor(const LayerNormArgs& a) {
    LayerNormPush p{};
    p.rows = a.rows;
    p.d = a.d;
    p.eps = a.eps;
    p.affine = a.gamma.empty() ? 0 : 1;
    return p;
}

bool fitsOneBinding(const Device& dev, const BufferRange& r) {
    return r.empty() || r.offset % dev.bindingAlignment() + r.size <= dev.maxBindingBytes();
}

// Rows per dispatch: all of them when the (rows, d) tensors fit one binding, else as many as
// fit one wherever they start.
Result<uint32_t> rowsPerPart(const Device& dev, const LayerNormArgs& a,
                             std::initializer_list<BufferRange> tensors) {
    const uint64_t n = uint64_t(a.rows) * a.d;
    bool whole = true;
    for (const auto& t : tensors) {
        whole = whole && fitsOneBinding(dev, t.empty() ? t : t.floatsAt(0, n));
    }
    if (whole) return a.rows;
    const uint64_t slack = dev.bindingAlignment() - 4;
    const uint64_t limit = dev.maxBindingBytes() > slack ? (dev.maxBindingBytes() - slack) / 4 : 0;
    if (a.d > limit) {
        return fail("layer norm: one row of " + std::to_string(a.d) +
                    " values is more than the device binds at once (" +
                    byteText(dev.maxBindingBytes()) + ").");
    }
    return uint32_t(limit / a.d);
}

// The same normalisation over rows [r0, r0 + rows).
LayerNormArgs rowsOf(const LayerNormArgs& a, uint32_t r0, uint32_t rows) {
    LayerNormArgs part = a;
    part.rows = rows;
    part.x = a.x.floatsAt(uint64_t(r0) * a.d, uint64_t(rows) * a.d);
    part.mean = a.mean.floatsAt(r0, rows);
    part.rstd = a.rstd.floatsAt(r0, rows);
    return part;
}

BufferRange rowsOf(const BufferRange& r, const LayerNormArgs& a, uint32_t r0, uint32_t rows) {
    return r.empty() ? r : r.floatsAt(uint64_t(r0) * a.d, uint64_t(rows) * a.d);
}

Result<void> recordFwdPart(Recorder& rec, const LayerNormArgs& a, const BufferRange& y) {
    const uint64_t n = uint64_t(a.rows) * a.d;
    const bool affine = !a.gamma.empty();
    LayerNormPush p = pushFor(a);
    BindList list(rec.device());
    p.offX = list.add(a.x.floatsAt(0, n), Access::Read, "layer norm input");
    p.offY = list.add(y.floatsAt(0, n), Access::Write, "layer norm output");
    p.offGamma = list.add(affine ? a.gamma.floatsAt(0, a.d) : BufferRange{}, Access::Read, "layer norm weight");
    p.offBeta = list.add(affine ? a.beta.floatsAt(0, a.d) : BufferRange{}, Access::Read, "layer norm bias");
    p.offMean = list.add(a.mean.floatsAt(0, a.rows), Access::Write, "layer norm mean");
    p.offRstd = list.add(a.rstd.floatsAt(0, a.rows), Access::Write, "layer norm rstd");
    if (auto r = list.status(); !r) return r;
    return rec.dispatch(kFwd, {}, list.bindings(), &p,
                        {strideGroups(rec.device(), a.rows, 64), 1, 1}, "layer_norm_fwd");
}

Result<void> recordBwdPart(Recorder& rec, const LayerNormArgs& a, const BufferRange& dy,
                           const BufferRange& dx, bool accumulate, const BufferRange& dgamma,
                           const BufferRange& dbeta) {
    const bool hasDx = !dx.empty(), hasParams = !dgamma.empty() && !dbeta.empty();
    const uint64_t n = uint64_t(a.rows) * a.d;
    const bool affine = !a.gamma.empty();
    LayerNormPush p = pushFor(a);
    p.hasDx = hasDx ? 1 : 0;
    p.accumulate = accumulate ? 1 : 0;
    p.hasParams = hasParams ? 1 : 0;
    BindList list(rec.device());
    p.offX = list.add(a.x.floatsAt(0, n), Access::Read, "layer norm input");
    p.offY = list.add(dy.floatsAt(0, n), Access::Read, "layer norm output gradient");
    p.offGamma = list.add(affine ? a.gamma.floatsAt(0, a.d) : BufferRange{}, Access::Read, "layer norm weight");
    p.offMean = list.add(a.mean.floatsAt(0, a.rows), Access::Read, "layer norm mean");
    p.offRstd = list.add(a.rstd.floatsAt(0, a.rows), Access::Read, "layer norm rstd");
    p.offDx = list.add(hasDx ? dx.floatsAt(0, n) : BufferRange{},
             accumulate ? Access::ReadWrite : Access::Write, "layer norm input gradient");
    p.offDgamma = list.add(hasParams ? dgamma.floatsAt(0, a.d) : BufferRange{}, Access::ReadWrite,
             "layer norm weight gradient");
    p.offDbeta = list.add(hasParams ? dbeta.floatsAt(0, a.d) : BufferRange{}, Access::ReadWrite,
             "layer norm bias gradient");
    if (auto r = list.status(); !r) return r;
    const uint64_t items = (hasDx ? a.rows : 0) + (hasParams ? a.d : 0);
    return rec.dispatch(kBwd, {}, list.bindings(), &p,
                        {strideGroups(rec.device(), items, 64), 1, 1}, "layer_norm_bwd");
}

}  // namespace

Result<void> recordLayerNormFwd(Recorder& rec, const LayerNormArgs& a, const BufferRange& y) {
    if (a.rows == 0 || a.d == 0) return {};
    auto perPart = rowsPerPart(rec.device(), a, {a.x, y});
    if (!perPart) return perPart.error();
    for (uint32_t r0 = 0; r0 < a.rows; r0 += *perPart) {
        const uint32_t rows = std::min(*perPart, a.rows - r0);
        if (auto r = recordFwdPart(rec, rowsOf(a, r0, rows), rowsOf(y, a, r0, rows)); !r) {
            return r;
        }
    }
    return {};
}

Result<void> recordLayerNormBwd(Recorder& rec, const LayerNormArgs& a, const BufferRange& dy,
                                const BufferRange& dx, bool accumulate,
                                const BufferRange& dgamma, const BufferRange& dbeta) {
    const bool hasDx = !dx.empty(), hasParams = !dgamma.empty() && !dbeta.empty();
    if (a.rows == 0 || a.d == 0 || (!hasDx && !hasParams)) return {};
    auto perPart = rowsPerPart(rec.device(), a, {a.x, dy, dx});
    if (!perPart) return perPart.error();
    // Parts of the rows each add their rows' share into dgamma and dbeta, in row order.
    for (uint32_t r0 = 0; r0 < a.rows; r0 += *perPart) {
        const uint32_t rows = std::min(*perPart, a.rows - r0);
        if (auto r = recordBwdPart(rec, rowsOf(a, r0, rows), rowsOf(dy, a, r0, rows),
                                   rowsOf(dx, a, r0, rows), accumulate, dgamma, dbeta);
            !r) {
            return r;
        }
    }
    return {};
}

}  // namespace strata::gpu::ops

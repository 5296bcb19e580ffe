#include "gpu/ops/softmax.h"

#include <algorithm>
#include <functional>
#include <string>

#include "gpu/ops/bind_list.h"
#include "softmax_push.h"

namespace strata::gpu::ops {

namespace {

using shader::SoftmaxPush;
constexpr VkDescriptorType kStorage = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
const KernelLayout kFwd{"softmax_fwd", {kStorage, kStorage}, sizeof(SoftmaxPush)};
const KernelLayout kBwd{"softmax_bwd", {kStorage, kStorage, kStorage}, sizeof(SoftmaxPush)};
const KernelLayout kStridedFwd{"softmax_strided_fwd", {kStorage, kStorage}, sizeof(SoftmaxPush)};
const KernelLayout kStridedBwd{"softmax_strided_bwd", {kStorage, kStorage, kStorage},
                               sizeof(SoftmaxPush)};

// Rows (inner == 1): one workgroup per row, grid-stride over rows beyond the group cap.
// Columns (inner > 1): one invocation per column.
uint32_t groupsFor(const Device& dev, const SoftmaxDims& d) {
    if (d.inner > 1) return strideGroups(dev, uint64_t(d.outer) * d.inner, 64);
    const uint32_t cap = dev.info().isCpu() ? 64 : dev.info().maxWorkGroupCount[0];
    return std::clamp<uint32_t>(d.outer, 1, cap);
}

SoftmaxPush pushFor(const SoftmaxDims& d) {
    SoftmaxPush p{};
    p.rows = d.outer * d.inner;
    p.cols = d.len;
    p.inner = d.inner;
    return p;
}

bool fitsOneBinding(const Device& dev, const BufferRange& r) {
    return r.offset % dev.bindingAlignment() + r.size <= dev.maxBindingBytes();
}

// Runs `part` over blocks of whole softmax slices (one outer index: len * inner values each):
// one block when every tensor fits one binding, else as many slices per block as fit one.
Result<void> forEachBlock(const Device& dev, const SoftmaxDims& d,
                          std::initializer_list<BufferRange> tensors,
                          const std::function<Result<void>(const SoftmaxDims&, uint64_t)>& part) {
    const uint64_t n = d.numel(), slice = uint64_t(d.len) * d.inner;
    bool whole = true;
    for (const auto& t : tensors) whole = whole && fitsOneBinding(dev, t.floatsAt(0, n));
    if (whole) return part(d, 0);
    const uint64_t slack = dev.bindingAlignment() - 4;
    const uint64_t limit = dev.maxBindingBytes() > slack ? (dev.maxBindingBytes() - slack) / 4 : 0;
    if (slice > limit) {
        return fail("softmax: one slice of " + std::to_string(slice) +
                    " values is more than the device binds at once (" +
                    byteText(dev.maxBindingBytes()) + ").");
    }
    const uint32_t perBlock = uint32_t(limit / slice);
    for (uint32_t o = 0; o < d.outer; o += perBlock) {
        const SoftmaxDims block{std::min(perBlock, d.outer - o), d.len, d.inner};
        if (auto r = part(block, o * slice); !r) return r;
    }
    return {};
}

Result<void> recordFwdPart(Recorder& rec, const SoftmaxDims& d, const BufferRange& x,
                           const BufferRange& y) {
    const uint64_t n = d.numel();
    BindList b(rec.device());
    SoftmaxPush p = pushFor(d);
    p.offX = b.add(x.floatsAt(0, n), Access::Read, "softmax input");
    // The kernels store exp() then rescale, so they read y back: read-write.
    p.offY = b.add(y.floatsAt(0, n), Access::ReadWrite, "softmax output");
    if (auto s = b.status(); !s) return s;
    const bool strided = d.inner > 1;
    return rec.dispatch(strided ? kStridedFwd : kFwd, {}, b.bindings(), &p,
                        {groupsFor(rec.device(), d), 1, 1},
                        strided ? "softmax_strided_fwd" : "softmax_fwd");
}

Result<void> recordBwdPart(Recorder& rec, const SoftmaxDims& d, const BufferRange& y,
                           const BufferRange& dy, const BufferRange& dx) {
    const uint64_t n = d.numel();
    BindList b(rec.device());
    SoftmaxPush p = pushFor(d);
    p.offX = b.add(y.floatsAt(0, n), Access::Read, "softmax output");
    p.offY = b.add(dy.floatsAt(0, n), Access::Read, "softmax output gradient");
    p.offDx = b.add(dx.floatsAt(0, n), Access::ReadWrite, "softmax input gradient");
    if (auto s = b.status(); !s) return s;
    const bool strided = d.inner > 1;
    return rec.dispatch(strided ? kStridedBwd : kBwd, {}, b.bindings(), &p,
                        {groupsFor(rec.device(), d), 1, 1},
                        strided ? "softmax_strided_bwd" : "softmax_bwd");
}

}  // namespace

Result<void> recordSoftmaxFwd(Recorder& rec, const SoftmaxDims& d, const BufferRange& x,
                              const BufferRange& y) {
    const uint64_t n = d.numel();
    if (n == 0) return {};
    return forEachBlock(rec.device(), d, {x, y},
                        [&](const SoftmaxDims& block, uint64_t first) -> Result<void> {
        const uint64_t count = block.numel();
        return recordFwdPart(rec, block, x.floatsAt(first, count), y.floatsAt(first, count));
    });
}

Result<void> recordSoftmaxBwd(Recorder& rec, const SoftmaxDims& d, const BufferRange& y,
                              const BufferRange& dy, const BufferRange& dx) {
    const uint64_t n = d.numel();
    if (n == 0) return {};
    return forEachBlock(rec.device(), d, {y, dy, dx},
                        [&](const SoftmaxDims& block, uint64_t first) -> Result<void> {
        const uint64_t count = block.numel();
        return recordBwdPart(rec, block, y.floatsAt(first, count), dy.floatsAt(first, count),
                             dx.floatsAt(first, count));
    });
}

}  // namespace strata::gpu::ops

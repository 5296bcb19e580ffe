#include "gpu/ops/softmax.h"

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

}  // namespace

Result<void> recordSoftmaxFwd(Recorder& rec, const SoftmaxDims& d, const BufferRange& x,
                              const BufferRange& y) {
    const uint64_t n = d.numel();
    if (n == 0) return {};
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

Result<void> recordSoftmaxBwd(Recorder& rec, const SoftmaxDims& d, const BufferRange& y,
                              const BufferRange& dy, const BufferRange& dx) {
    const uint64_t n = d.numel();
    if (n == 0) return {};
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

}  // namespace strata::gpu::ops

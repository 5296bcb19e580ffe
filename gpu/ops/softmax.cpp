#include "gpu/ops/softmax.h"

#include "gpu/ops/common.h"
#include "softmax_push.h"

namespace strata::gpu::ops {

namespace {

using shader::SoftmaxPush;
constexpr VkDescriptorType kStorage = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
const KernelLayout kFwd{"softmax_fwd", {kStorage, kStorage}, sizeof(SoftmaxPush)};
const KernelLayout kBwd{"softmax_bwd", {kStorage, kStorage, kStorage}, sizeof(SoftmaxPush)};

// One workgroup per row, grid-stride over rows beyond the group cap.
uint32_t rowGroups(const Device& dev, uint32_t rows) {
    const uint32_t cap = dev.info().isCpu() ? 64 : dev.info().maxWorkGroupCount[0];
    return std::clamp<uint32_t>(rows, 1, cap);
}

}  // namespace

Result<void> recordSoftmaxFwd(Recorder& rec, uint32_t rows, uint32_t cols, const BufferRange& x,
                              const BufferRange& y) {
    const uint64_t n = uint64_t(rows) * cols;
    if (n == 0) return {};
    const Device& dev = rec.device();
    const BufferRange xu = x.floatsAt(0, n), yu = y.floatsAt(0, n);
    auto bx = bindFloats(dev, xu, "softmax input");
    if (!bx) return bx.error();
    auto by = bindFloats(dev, yu, "softmax output");
    if (!by) return by.error();
    SoftmaxPush p{rows, cols, bx->offset, by->offset, 0};
    // The kernel stores exp() then rescales, so it reads y back: read-write.
    const Binding bindings[] = {{bx->range, Access::Read, xu}, {by->range, Access::ReadWrite, yu}};
    return rec.dispatch(kFwd, {}, bindings, &p, {rowGroups(dev, rows), 1, 1}, "softmax_fwd");
}

Result<void> recordSoftmaxBwd(Recorder& rec, uint32_t rows, uint32_t cols, const BufferRange& y,
                              const BufferRange& dy, const BufferRange& dx) {
    const uint64_t n = uint64_t(rows) * cols;
    if (n == 0) return {};
    const Device& dev = rec.device();
    const BufferRange yu = y.floatsAt(0, n), dyu = dy.floatsAt(0, n), dxu = dx.floatsAt(0, n);
    auto by = bindFloats(dev, yu, "softmax output");
    if (!by) return by.error();
    auto bdy = bindFloats(dev, dyu, "softmax output gradient");
    if (!bdy) return bdy.error();
    auto bdx = bindFloats(dev, dxu, "softmax input gradient");
    if (!bdx) return bdx.error();
    SoftmaxPush p{rows, cols, by->offset, bdy->offset, bdx->offset};
    const Binding bindings[] = {{by->range, Access::Read, yu},
                                {bdy->range, Access::Read, dyu},
                                {bdx->range, Access::ReadWrite, dxu}};
    return rec.dispatch(kBwd, {}, bindings, &p, {rowGroups(dev, rows), 1, 1}, "softmax_bwd");
}

}  // namespace strata::gpu::ops

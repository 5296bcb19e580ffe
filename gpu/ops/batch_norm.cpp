#include "gpu/ops/batch_norm.h"

#include <algorithm>

#include "batch_norm_push.h"
#include "gpu/ops/bind_list.h"

namespace strata::gpu::ops {

namespace {

constexpr VkDescriptorType kStorage = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
const KernelLayout kFwd{"batch_norm_fwd", std::vector<VkDescriptorType>(8, kStorage),
                        sizeof(shader::BatchNormFwdPush)};
const KernelLayout kBwd{"batch_norm_bwd", std::vector<VkDescriptorType>(8, kStorage),
                        sizeof(shader::BatchNormBwdPush)};

// One workgroup per channel; a channel's work is a grid-stride loop over n * inner values.
uint32_t channelGroups(const Device& dev, uint32_t channels) {
    const uint32_t cap = dev.info().isCpu() ? 64 : dev.info().maxWorkGroupCount[0];
    return std::clamp<uint32_t>(channels, 1, cap);
}

}  // namespace

Result<void> recordBatchNormFwd(Recorder& rec, const BatchNormFwdArgs& a) {
    const uint64_t n = a.dims.numel();
    if (n == 0) return {};
    const uint32_t c = a.dims.channels;
    BindList b(rec.device());
    shader::BatchNormFwdPush p{};
    p.n = a.dims.n;
    p.channels = c;
    p.inner = a.dims.inner;
    p.training = a.training ? 1 : 0;
    p.eps = a.eps;
    p.momentum = a.momentum;
    const Access stats = a.training ? Access::ReadWrite : Access::Read;
    p.offX = b.add(a.x.floatsAt(0, n), Access::Read, "batch_norm input");
    p.offY = b.add(a.y.floatsAt(0, n), Access::Write, "batch_norm output");
    p.offGamma = b.add(a.gamma.floatsAt(0, c), Access::Read, "batch_norm weight");
    p.offBeta = b.add(a.beta.floatsAt(0, c), Access::Read, "batch_norm bias");
    p.offRunningMean = b.add(a.runningMean.floatsAt(0, c), stats, "batch_norm running_mean");
    p.offRunningVar = b.add(a.runningVar.floatsAt(0, c), stats, "batch_norm running_var");
    p.offMean = b.add(a.mean.floatsAt(0, c), Access::Write, "batch_norm saved mean");
    p.offInvstd = b.add(a.invstd.floatsAt(0, c), Access::Write, "batch_norm saved invstd");
    if (auto s = b.status(); !s) return s;
    return rec.dispatch(kFwd, {}, b.bindings(), &p, {channelGroups(rec.device(), c), 1, 1},
                        a.training ? "batch_norm_fwd train" : "batch_norm_fwd eval");
}

Result<void> recordBatchNormBwd(Recorder& rec, const BatchNormBwdArgs& a) {
    const uint64_t n = a.dims.numel();
    if (n == 0 || (a.dx.empty() && a.dgamma.empty() && a.dbeta.empty())) return {};
    const uint32_t c = a.dims.channels;
    BindList b(rec.device());
    shader::BatchNormBwdPush p{};
    p.n = a.dims.n;
    p.channels = c;
    p.inner = a.dims.inner;
    p.training = a.training ? 1 : 0;
    p.offX = b.add(a.x.floatsAt(0, n), Access::Read, "batch_norm input");
    p.offDy = b.add(a.dy.floatsAt(0, n), Access::Read, "batch_norm output gradient");
    p.offGamma = b.add(a.gamma.floatsAt(0, c), Access::Read, "batch_norm weight");
    p.offMean = b.add(a.mean.floatsAt(0, c), Access::Read, "batch_norm saved mean");
    p.offInvstd = b.add(a.invstd.floatsAt(0, c), Access::Read, "batch_norm saved invstd");
    auto part = [](const BufferRange& r, uint64_t count) {
        return r.empty() ? r : r.floatsAt(0, count);
    };
    p.offDx = b.addOptional(part(a.dx, n), Access::ReadWrite, "batch_norm input gradient");
    p.offDgamma = b.addOptional(part(a.dgamma, c), Access::ReadWrite, "batch_norm weight gradient");
    p.offDbeta = b.addOptional(part(a.dbeta, c), Access::ReadWrite, "batch_norm bias gradient");
    p.hasDx = a.dx.empty() ? 0 : 1;
    p.hasDgamma = a.dgamma.empty() ? 0 : 1;
    p.hasDbeta = a.dbeta.empty() ? 0 : 1;
    if (auto s = b.status(); !s) return s;
    return rec.dispatch(kBwd, {}, b.bindings(), &p, {channelGroups(rec.device(), c), 1, 1},
                        "batch_norm_bwd");
}

}  // namespace strata::gpu::ops

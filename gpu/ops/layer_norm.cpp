#include "gpu/ops/layer_norm.h"

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

}  // namespace

Result<void> recordLayerNormFwd(Recorder& rec, const LayerNormArgs& a, const BufferRange& y) {
    if (a.rows == 0 || a.d == 0) return {};
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

Result<void> recordLayerNormBwd(Recorder& rec, const LayerNormArgs& a, const BufferRange& dy,
                                const BufferRange& dx, bool accumulate,
                                const BufferRange& dgamma, const BufferRange& dbeta) {
    const bool hasDx = !dx.empty(), hasParams = !dgamma.empty() && !dbeta.empty();
    if (a.rows == 0 || a.d == 0 || (!hasDx && !hasParams)) return {};
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

}  // namespace strata::gpu::ops

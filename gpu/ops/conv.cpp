#include "gpu/ops/conv.h"

#include "conv_push.h"
#include "gpu/ops/common.h"

namespace strata::gpu::ops {

namespace {

using shader::ConvRegroupPush;
using shader::Im2colPush;
constexpr VkDescriptorType kStorage = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
const KernelLayout kIm2col{"im2col", {kStorage, kStorage}, sizeof(Im2colPush)};
const KernelLayout kCol2im{"col2im", {kStorage, kStorage}, sizeof(Im2colPush)};
const KernelLayout kRegroup{"conv_regroup", {kStorage, kStorage, kStorage},
                            sizeof(ConvRegroupPush)};

Im2colPush pushFor(const ConvGeometry& g, uint32_t samples) {
    Im2colPush p{};
    p.samples = samples;
    p.channels = g.channels;
    p.height = g.height;
    p.width = g.width;
    p.outH = g.outH;
    p.outW = g.outW;
    p.kernel = g.kernel;
    p.stride = g.stride;
    p.padding = g.padding;
    p.dilation = g.dilation;
    return p;
}

// Workgroups for kernels that walk `lines` (y) of `perLine` items (x). CPU devices run a few
// long-lived groups, each taking whole lines; GPUs get one group per 64 items of every line.
std::array<uint32_t, 3> lineGroups(const Device& dev, uint64_t lines, uint64_t perLine) {
    const auto& limits = dev.info().maxWorkGroupCount;
    if (dev.info().isCpu()) return {1, uint32_t(std::clamp<uint64_t>(lines, 1, 64)), 1};
    return {uint32_t(std::clamp<uint64_t>((perLine + 63) / 64, 1, limits[0])),
            uint32_t(std::clamp<uint64_t>(lines, 1, limits[1])), 1};
}

}  // namespace

Result<void> recordIm2col(Recorder& rec, const ConvGeometry& g, uint32_t samples,
                          const BufferRange& img, const BufferRange& col) {
    const Device& dev = rec.device();
    const uint64_t n = g.colRows() * samples * g.positions();
    if (n == 0) return {};
    const BufferRange imgUsed = img.floatsAt(0, g.pixels() * samples);
    const BufferRange colUsed = col.floatsAt(0, n);
    auto bi = bindFloats(dev, imgUsed, "im2col input");
    if (!bi) return bi.error();
    auto bc = bindFloats(dev, colUsed, "im2col columns");
    if (!bc) return bc.error();
    Im2colPush p = pushFor(g, samples);
    p.offImg = bi->offset;
    p.offCol = bc->offset;
    const Binding bindings[] = {{bi->range, Access::Read, imgUsed},
                                {bc->range, Access::Write, colUsed}};
    return rec.dispatch(kIm2col, {}, bindings, &p,
                        lineGroups(dev, g.colRows() * samples, g.positions()), "im2col");
}

Result<void> recordCol2imAdd(Recorder& rec, const ConvGeometry& g, uint32_t samples,
                             const BufferRange& dcol, const BufferRange& dx) {
    const Device& dev = rec.device();
    const uint64_t n = g.pixels() * samples;
    if (n == 0) return {};
    const BufferRange dxUsed = dx.floatsAt(0, n);
    const BufferRange colUsed = dcol.floatsAt(0, g.colRows() * samples * g.positions());
    auto bx = bindFloats(dev, dxUsed, "col2im input gradient");
    if (!bx) return bx.error();
    auto bc = bindFloats(dev, colUsed, "col2im column gradient");
    if (!bc) return bc.error();
    Im2colPush p = pushFor(g, samples);
    p.offImg = bx->offset;
    p.offCol = bc->offset;
    const Binding bindings[] = {{bx->range, Access::ReadWrite, dxUsed},
                                {bc->range, Access::Read, colUsed}};
    return rec.dispatch(kCol2im, {}, bindings, &p,
                        lineGroups(dev, uint64_t(g.channels) * samples,
                                   uint64_t(g.height) * g.width),
                        "col2im");
}

Result<void> recordConvRegroup(Recorder& rec, uint32_t d0, uint32_t d1, uint32_t inner,
                               const BufferRange& src, const BufferRange& dst,
                               const BufferRange& bias, const std::string& label) {
    const Device& dev = rec.device();
    const uint64_t n = uint64_t(d0) * d1 * inner;
    if (n == 0) return {};
    const BufferRange srcUsed = src.floatsAt(0, n), dstUsed = dst.floatsAt(0, n);
    auto bs = bindFloats(dev, srcUsed, "conv regroup source");
    if (!bs) return bs.error();
    auto bd = bindFloats(dev, dstUsed, "conv regroup destination");
    if (!bd) return bd.error();
    const bool hasBias = !bias.empty();
    const BufferRange biasUsed = hasBias ? bias.floatsAt(0, d0) : BufferRange{};
    BoundFloats bb = *bs;  // a placeholder binding when there is no bias
    if (hasBias) {
        auto b = bindFloats(dev, biasUsed, "conv bias");
        if (!b) return b.error();
        bb = *b;
    }
    ConvRegroupPush p{};
    p.d0 = d0;
    p.d1 = d1;
    p.inner = inner;
    p.offSrc = bs->offset;
    p.offDst = bd->offset;
    p.offBias = hasBias ? bb.offset : 0;
    p.hasBias = hasBias ? 1 : 0;
    const Binding bindings[] = {{bs->range, Access::Read, srcUsed},
                                {bd->range, Access::Write, dstUsed},
                                {bb.range, hasBias ? Access::Read : Access::Unused, biasUsed}};
    return rec.dispatch(kRegroup, {}, bindings, &p, lineGroups(dev, uint64_t(d0) * d1, inner),
                        label);
}

}  // namespace strata::gpu::ops

#include "gpu/ops/reduce.h"

#include <functional>

#include "gpu/ops/common.h"
#include "grad_norm_push.h"

namespace strata::gpu::ops {

namespace {

using shader::GradNormPush;
constexpr VkDescriptorType kStorage = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
const KernelLayout kSumSquares{"sum_squares", {kStorage, kStorage}, sizeof(GradNormPush)};
const KernelLayout kSumFinal{"sum_squares_final", {kStorage, kStorage}, sizeof(GradNormPush)};
const KernelLayout kClip{"clip_scale", {kStorage, kStorage}, sizeof(GradNormPush)};
constexpr uint32_t kWidth = 64;

// Workgroups for one chunk of stage 1: enough that each invocation adds at least 16 values,
// capped so stage 2 (one workgroup) stays short; CPU devices want a few long groups.
uint32_t groupsFor(const Device& dev, uint64_t count) {
    const uint64_t cap = dev.info().isCpu() ? 64 : 4096;
    return uint32_t(std::clamp<uint64_t>((count + kWidth * 16 - 1) / (kWidth * 16), 1, cap));
}

// Calls fn(first, count, partialBase) for each chunk of the gradients.
Result<void> forEachNormChunk(
    const Device& dev, const BufferRange& grads,
    const std::function<Result<void>(uint64_t, uint64_t, uint64_t)>& fn) {
    uint64_t base = 0;
    return forEachChunk(dev, grads.floats(), slackOf(dev, {grads}),
                        [&](uint64_t first, uint64_t count) -> Result<void> {
        if (auto r = fn(first, count, base); !r) return r;
        base += groupsFor(dev, count);
        return {};
    });
}

Result<BoundFloats> bindOneFloat(const Device& dev, const BufferRange& r, const char* what) {
    if (r.size < 4) return fail(std::string(what) + " needs room for one float.");
    return bindFloats(dev, r.floatsAt(0, 1), what);
}

}  // namespace

uint64_t squaredNormPartials(const Device& device, const BufferRange& grads) {
    uint64_t total = 0;
    auto counted = forEachNormChunk(device, grads, [&](uint64_t, uint64_t count, uint64_t) {
        total += groupsFor(device, count);
        return Result<void>{};
    });
    return counted ? total : 0;
}

Result<void> recordSquaredNorm(Recorder& rec, const BufferRange& grads,
                               const BufferRange& partials, const BufferRange& out) {
    const Device& dev = rec.device();
    auto result = bindOneFloat(dev, out, "the squared norm");
    if (!result) return result.error();
    const uint64_t needed = squaredNormPartials(dev, grads);
    if (needed == 0) return rec.fill(out.floatsAt(0, 1), 0, "sum_squares (no values)");
    if (partials.floats() < needed) {
        return fail("sum_squares needs " + std::to_string(needed) + " floats of partial sums but " +
                    "has " + std::to_string(partials.floats()) + ".");
    }
    auto stage1 = forEachNormChunk(dev, grads, [&](uint64_t first, uint64_t count,
                                                   uint64_t base) -> Result<void> {
        const uint32_t groups = groupsFor(dev, count);
        const BufferRange part = grads.floatsAt(first, count);
        const BufferRange mine = partials.floatsAt(base, groups);
        auto bv = bindFloats(dev, part, "the gradients");
        if (!bv) return bv.error();
        auto bp = bindFloats(dev, mine, "the partial sums");
        if (!bp) return bp.error();
        const GradNormPush push{uint32_t(count), bv->offset, bp->offset, 0.0f};
        const Binding bindings[] = {{bv->range, Access::Read, part},
                                    {bp->range, Access::Write, mine}};
        return rec.dispatch(kSumSquares, {}, bindings, &push, {groups, 1, 1}, "sum_squares");
    });
    if (!stage1) return stage1;
    const BufferRange all = partials.floatsAt(0, needed);
    auto bp = bindFloats(dev, all, "the partial sums");
    if (!bp) return bp.error();
    const GradNormPush push{uint32_t(needed), bp->offset, result->offset, 0.0f};
    const Binding bindings[] = {{bp->range, Access::Read, all},
                                {result->range, Access::Write, out.floatsAt(0, 1)}};
    return rec.dispatch(kSumFinal, {}, bindings, &push, {1, 1, 1}, "sum_squares_final");
}

Result<void> recordClipScale(Recorder& rec, const BufferRange& grads,
                             const BufferRange& normSquared, float clipTo) {
    const Device& dev = rec.device();
    if (!(clipTo > 0)) return fail("Gradient clipping needs a positive limit.");
    auto sum = bindOneFloat(dev, normSquared, "the squared norm");
    if (!sum) return sum.error();
    return forEachChunk(dev, grads.floats(), slackOf(dev, {grads}),
                        [&](uint64_t first, uint64_t count) -> Result<void> {
        const BufferRange part = grads.floatsAt(first, count);
        auto bg = bindFloats(dev, part, "the gradients");
        if (!bg) return bg.error();
        const GradNormPush push{uint32_t(count), bg->offset, sum->offset, clipTo};
        const Binding bindings[] = {{bg->range, Access::ReadWrite, part},
                                    {sum->range, Access::Read, normSquared.floatsAt(0, 1)}};
        return rec.dispatch(kClip, {}, bindings, &push, {strideGroups(dev, count, 64), 1, 1},
                            "clip_scale");
    });
}

}  // namespace strata::gpu::ops

#include "gpu/ops/copy.h"

#include "copy_push.h"
#include "gpu/ops/common.h"

namespace strata::gpu::ops {

namespace {

using shader::CopyPush;
constexpr VkDescriptorType kStorage = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
const KernelLayout kCopy{"copy", {kStorage, kStorage}, sizeof(CopyPush)};

Result<void> copyKernel(Recorder& rec, const BufferRange& src, const BufferRange& dst,
                        bool accumulate, const std::string& label) {
    if (src.floats() != dst.floats()) {
        return fail("'" + label + "' operands differ in length (" +
                    std::to_string(src.floats()) + " and " + std::to_string(dst.floats()) +
                    " floats).");
    }
    const Device& dev = rec.device();
    return forEachChunk(dev, src.floats(), slackOf(dev, {src, dst}),
                        [&](uint64_t first, uint64_t count) -> Result<void> {
        const BufferRange s = src.floatsAt(first, count), d = dst.floatsAt(first, count);
        auto bs = bindFloats(dev, s, label.c_str());
        if (!bs) return bs.error();
        auto bd = bindFloats(dev, d, label.c_str());
        if (!bd) return bd.error();
        CopyPush push{uint32_t(count), bs->offset, bd->offset, accumulate ? 1u : 0u};
        const Binding bindings[] = {{bs->range, Access::Read, s},
                                    {bd->range, accumulate ? Access::ReadWrite : Access::Write, d}};
        return rec.dispatch(kCopy, {}, bindings, &push, {strideGroups(dev, count, 64), 1, 1},
                            label);
    });
}

}  // namespace

Result<void> recordCopy(Recorder& rec, const BufferRange& src, const BufferRange& dst,
                        const std::string& label) {
    return copyKernel(rec, src, dst, false, label);
}

Result<void> recordAddInto(Recorder& rec, const BufferRange& src, const BufferRange& dst,
                           const std::string& label) {
    return copyKernel(rec, src, dst, true, label);
}

}  // namespace strata::gpu::ops

#include "gpu/ops/metrics.h"

#include <algorithm>

#include "argmax_push.h"
#include "gpu/ops/bind_list.h"
#include "gpu/ops/common.h"

namespace strata::gpu::ops {

namespace {

using shader::ArgmaxPush;
constexpr VkDescriptorType kStorage = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
const KernelLayout kRows{"argmax_rows", {kStorage, kStorage}, sizeof(ArgmaxPush)};
const KernelLayout kCount{"argmax_count", std::vector<VkDescriptorType>(4, kStorage),
                          sizeof(ArgmaxPush)};

}  // namespace

Result<void> recordArgmaxAccuracy(Recorder& rec, const ArgmaxAccuracyArgs& a) {
    if (a.rows == 0 || a.classes == 0) return {};
    const Device& dev = rec.device();
    ArgmaxPush p{};
    p.rows = a.rows;
    p.classes = a.classes;
    p.ignoreIndex = a.ignoreIndex;
    p.hasCounted = a.counted.empty() ? 0 : 1;
    const BufferRange pred = a.predictions.floatsAt(0, a.rows);
    {
        BindList b(dev);
        p.offLogits = b.add(a.logits.floatsAt(0, uint64_t(a.rows) * a.classes), Access::Read,
                            "argmax logits");
        p.offPred = b.add(pred, Access::Write, "argmax predictions");
        if (auto s = b.status(); !s) return s;
        // CPU devices (lavapipe): a row per invocation, since a workgroup barrier there costs
        // more than walking a row alone; GPUs: a workgroup per row.
        const bool alone = dev.info().isCpu();
        const uint32_t spec[] = {alone ? 1u : 0u};
        const uint32_t groups = alone ? strideGroups(dev, a.rows, 64)
                                      : std::clamp<uint32_t>(a.rows, 1,
                                                             dev.info().maxWorkGroupCount[0]);
        if (auto r = rec.dispatch(kRows, spec, b.bindings(), &p, {groups, 1, 1}, "argmax_rows");
            !r) {
            return r;
        }
    }
    BindList b(dev);
    p.offTargets = b.add(a.targets.floatsAt(0, a.rows), Access::Read, "argmax targets");
    p.offPred = b.add(pred, Access::Read, "argmax predictions");
    p.offCorrect = b.add(a.correct.floatsAt(0, 1), Access::ReadWrite, "correct counter");
    p.offCounted = b.addOptional(a.counted.empty() ? a.counted : a.counted.floatsAt(0, 1),
                                 Access::ReadWrite, "counted targets counter");
    if (auto s = b.status(); !s) return s;
    return rec.dispatch(kCount, {}, b.bindings(), &p, {1, 1, 1}, "argmax_count");
}

}  // namespace strata::gpu::ops

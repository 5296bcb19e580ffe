#pragma once
// What every op file needs to turn buffer ranges into bindings: descriptors start at the
// device's offset alignment, so a tensor at any float offset is bound from the aligned byte
// below it and the kernel adds the remaining element offset (a push constant).
#include <algorithm>
#include <cstdint>
#include <functional>

#include "core/util/result.h"
#include "gpu/recorder.h"

namespace strata::gpu::ops {

struct BoundFloats {
    BufferRange range;     // what the descriptor binds
    uint32_t offset = 0;   // elements from the start of `range` to the tensor's first float
};

inline Result<BoundFloats> bindFloats(const Device& device, const BufferRange& r,
                                      const char* what) {
    if (r.offset % 4 != 0) return fail(std::string(what) + " does not start on a float.");
    const uint64_t align = device.bindingAlignment();
    const uint64_t base = r.offset / align * align;
    const uint64_t size = r.offset + r.size - base;
    if (size > device.maxBindingBytes()) {
        return fail(std::string(what) + " spans " + byteText(size) +
                    ", more than the device binds at once (" +
                    byteText(device.maxBindingBytes()) + "); try a smaller batch size.");
    }
    return BoundFloats{{r.buffer, base, size}, uint32_t((r.offset - base) / 4)};
}

// Elementwise work over n floats in pieces whose bindings fit the device: calls
// fn(first, count) for consecutive chunks (one call when everything fits). slackBytes: how far
// the operands start past an aligned offset (bindings start at the aligned offset below);
// chunk lengths keep that distance the same for every chunk.
inline Result<void> forEachChunk(const Device& device, uint64_t n, uint64_t slackBytes,
                                 const std::function<Result<void>(uint64_t, uint64_t)>& fn) {
    const uint64_t quantum = std::max<uint64_t>(64, device.bindingAlignment() / 4);
    const uint64_t limit = (device.maxBindingBytes() - slackBytes) / 4 / quantum * quantum;
    if (limit == 0) return fail("The device's binding limit is too small for any chunk.");
    for (uint64_t first = 0; first < n; first += limit) {
        if (auto r = fn(first, std::min(limit, n - first)); !r) return r;
    }
    return {};
}

// Workgroups for a grid-stride loop over n items with `width` invocations per group. CPU devices
// run groups on a few threads, so a handful of long-running groups beats many short ones.
// The largest distance of any operand from the aligned offset below it.
inline uint64_t slackOf(const Device& device, std::initializer_list<BufferRange> ranges) {
    uint64_t slack = 0;
    for (const auto& r : ranges) slack = std::max(slack, r.offset % device.bindingAlignment());
    return slack;
}

inline uint32_t strideGroups(const Device& device, uint64_t n, uint32_t width) {
    const uint64_t cap = device.info().isCpu() ? 64 : device.info().maxWorkGroupCount[0];
    return uint32_t(std::clamp<uint64_t>((n + width - 1) / width, 1, cap));
}

}  // namespace strata::gpu::ops

#include "gpu/ops/pool.h"

#include <vector>

#include "gpu/ops/common.h"
#include "pool_push.h"

namespace strata::gpu::ops {

namespace {

using shader::PoolPush;
constexpr VkDescriptorType kStorage = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
const KernelLayout kMaxFwd{"pool_max2d_fwd", {kStorage, kStorage, kStorage}, sizeof(PoolPush)};
const KernelLayout kMaxBwd{"pool_max2d_bwd", {kStorage, kStorage, kStorage}, sizeof(PoolPush)};
const KernelLayout kAvgFwd{"pool_avg2d_fwd", {kStorage, kStorage}, sizeof(PoolPush)};
const KernelLayout kAvgBwd{"pool_avg2d_bwd", {kStorage, kStorage}, sizeof(PoolPush)};
const KernelLayout kGlobalFwd{"pool_global_avg_fwd", {kStorage, kStorage}, sizeof(PoolPush)};
const KernelLayout kGlobalBwd{"pool_global_avg_bwd", {kStorage, kStorage}, sizeof(PoolPush)};

struct Operand {
    BufferRange range;
    uint64_t perPlane;  // floats of one plane in this operand
    Access access;
    uint32_t PoolPush::*offset;
};

// One pooling kernel over all planes, split into runs of whole planes whose bindings fit the
// device. `itemsPerPlane`: iterations of the kernel's loop per plane.
Result<void> pool(Recorder& rec, const KernelLayout& kernel, const PoolGeometry& g,
                  uint64_t itemsPerPlane, const std::vector<Operand>& operands, float scale,
                  const std::string& label) {
    const Device& dev = rec.device();
    if (g.planes == 0 || itemsPerPlane == 0) return {};
    uint64_t widest = 1;
    for (const auto& o : operands) {
        widest = std::max(widest, o.perPlane);
        if (o.range.floats() < o.perPlane * g.planes) {
            return fail("'" + label + "' operands are smaller than its " +
                        std::to_string(g.planes) + " planes need.");
        }
    }
    // Bindings start up to one alignment below the operand.
    const uint64_t room = dev.maxBindingBytes() > dev.bindingAlignment()
                              ? (dev.maxBindingBytes() - dev.bindingAlignment()) / 4
                              : 0;
    const uint64_t perChunk = std::min<uint64_t>(g.planes, room / widest);
    if (perChunk == 0) {
        return fail("'" + label + "' needs one plane of " + std::to_string(widest) +
                    " floats, more than the device binds at once.");
    }
    for (uint64_t first = 0; first < g.planes; first += perChunk) {
        const uint64_t count = std::min<uint64_t>(perChunk, g.planes - first);
        PoolPush p{};
        p.height = g.height;
        p.width = g.width;
        p.outH = g.outH;
        p.outW = g.outW;
        p.kernel = g.kernel;
        p.stride = g.stride;
        p.padding = g.padding;
        p.scale = scale;
        p.count = uint32_t(count * itemsPerPlane);
        std::vector<Binding> bindings;
        for (const auto& o : operands) {
            const BufferRange part = o.range.floatsAt(first * o.perPlane, count * o.perPlane);
            auto bound = bindFloats(dev, part, label.c_str());
            if (!bound) return bound.error();
            bindings.push_back({bound->range, o.access, part});
            p.*o.offset = bound->offset;
        }
        // The max-pooling kernels read the geometry as specialization constants too; the
        // others have no such constants, which Vulkan allows.
        const uint32_t spec[] = {g.height, g.width, g.outH, g.outW, g.kernel, g.stride,
                                 g.padding};
        if (auto r = rec.dispatch(kernel, spec, bindings, &p,
                                  {strideGroups(dev, p.count, 64), 1, 1}, label);
            !r) {
            return r;
        }
    }
    return {};
}

uint64_t inPlane(const PoolGeometry& g) { return uint64_t(g.height) * g.width; }
uint64_t outPlane(const PoolGeometry& g) { return uint64_t(g.outH) * g.outW; }
float windowScale(const PoolGeometry& g) { return 1.0f / float(g.kernel * g.kernel); }

}  // namespace

Result<void> recordMaxPool2dFwd(Recorder& rec, const PoolGeometry& g, const BufferRange& x,
                                const BufferRange& y, const BufferRange& argmax) {
    return pool(rec, kMaxFwd, g, outPlane(g),
                {{x, inPlane(g), Access::Read, &PoolPush::offX},
                 {y, outPlane(g), Access::Write, &PoolPush::offY},
                 {argmax, outPlane(g), Access::Write, &PoolPush::offArg}},
                0.0f, "max_pool2d_fwd");
}

Result<void> recordMaxPool2dBwd(Recorder& rec, const PoolGeometry& g, const BufferRange& dy,
                                const BufferRange& argmax, const BufferRange& dx) {
    return pool(rec, kMaxBwd, g, inPlane(g),
                {{dy, outPlane(g), Access::Read, &PoolPush::offY},
                 {argmax, outPlane(g), Access::Read, &PoolPush::offArg},
                 {dx, inPlane(g), Access::ReadWrite, &PoolPush::offDx}},
                0.0f, "max_pool2d_bwd");
}

Result<void> recordAvgPool2dFwd(Recorder& rec, const PoolGeometry& g, const BufferRange& x,
                                const BufferRange& y) {
    return pool(rec, kAvgFwd, g, outPlane(g),
                {{x, inPlane(g), Access::Read, &PoolPush::offX},
                 {y, outPlane(g), Access::Write, &PoolPush::offY}},
                windowScale(g), "avg_pool2d_fwd");
}

Result<void> recordAvgPool2dBwd(Recorder& rec, const PoolGeometry& g, const BufferRange& dy,
                                const BufferRange& dx) {
    return pool(rec, kAvgBwd, g, inPlane(g),
                {{dy, outPlane(g), Access::Read, &PoolPush::offY},
                 {dx, inPlane(g), Access::ReadWrite, &PoolPush::offDx}},
                windowScale(g), "avg_pool2d_bwd");
}

Result<void> recordGlobalAvgPoolFwd(Recorder& rec, const PoolGeometry& g, const BufferRange& x,
                                    const BufferRange& y) {
    return pool(rec, kGlobalFwd, g, 1,
                {{x, inPlane(g), Access::Read, &PoolPush::offX},
                 {y, 1, Access::Write, &PoolPush::offY}},
                1.0f / float(inPlane(g)), "global_avg_pool2d_fwd");
}

Result<void> recordGlobalAvgPoolBwd(Recorder& rec, const PoolGeometry& g, const BufferRange& dy,
                                    const BufferRange& dx) {
    return pool(rec, kGlobalBwd, g, inPlane(g),
                {{dy, 1, Access::Read, &PoolPush::offY},
                 {dx, inPlane(g), Access::ReadWrite, &PoolPush::offDx}},
                1.0f / float(inPlane(g)), "global_avg_pool2d_bwd");
}

}  // namespace strata::gpu::ops

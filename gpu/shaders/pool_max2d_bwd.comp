#version 450
// max_pool2d backward: dx += the output gradients of the windows whose argmax is this pixel.
// One invocation per input pixel gathers them (no atomics), in the CPU's order (output row,
// then column).
#extension GL_GOOGLE_include_directive : require
#include "pool_push.h"

layout(local_size_x = 64) in;
// The geometry again as specialization constants (pool.cpp passes both): divisions by
// constants and fixed window loops compile to a few instructions, where lavapipe otherwise
// divides lane by lane for every item.
layout(constant_id = 0) const uint kHeight = 1u;
layout(constant_id = 1) const uint kWidth = 1u;
layout(constant_id = 2) const uint kOutH = 1u;
layout(constant_id = 3) const uint kOutW = 1u;
layout(constant_id = 4) const uint kKernel = 1u;
layout(constant_id = 5) const uint kStride = 1u;
layout(constant_id = 6) const uint kPadding = 0u;
layout(push_constant) uniform Push { PoolPush p; };
layout(std430, binding = 0) readonly buffer Dy { float dy[]; };    // (planes, OH, OW)
layout(std430, binding = 1) readonly buffer Arg { float arg[]; };  // (planes, OH, OW)
layout(std430, binding = 2) buffer Dx { float dx[]; };             // (planes, H, W)

// The output indices o whose window [o*stride - padding, + kernel) contains input index v.
uvec2 windowsOver(uint v, uint outSize) {
    const int top = int(v + kPadding);
    const int first = max(top - int(kKernel) + int(kStride), 0) / int(kStride);
    const int last = min(top / int(kStride), int(outSize) - 1);
    return uvec2(first, max(last + 1, first));
}

void main() {
    const uint step = gl_NumWorkGroups.x * 64u;
    for (uint i = gl_GlobalInvocationID.x; i < p.count; i += step) {
        const uint ix = i % kWidth;
        const uint t = i / kWidth;
        const uint iy = t % kHeight;
        const uint plane = t / kHeight;
        const float self = float(iy * kWidth + ix);
        const uvec2 rows = windowsOver(iy, kOutH);
        const uvec2 cols = windowsOver(ix, kOutW);
        float acc = dx[p.offDx + i];
        for (uint oy = rows.x; oy < rows.y; ++oy) {
            for (uint ox = cols.x; ox < cols.y; ++ox) {
                const uint o = (plane * kOutH + oy) * kOutW + ox;
                if (arg[p.offArg + o] == self) acc += dy[p.offY + o];
            }
        }
        dx[p.offDx + i] = acc;
    }
}

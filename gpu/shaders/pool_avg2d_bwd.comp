#version 450
// avg_pool2d backward: dx += dy * scale of every window containing the pixel, gathered by one
// invocation per input pixel (no atomics), in the CPU's order (output row, then column).
#extension GL_GOOGLE_include_directive : require
#include "pool_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { PoolPush p; };
layout(std430, binding = 0) readonly buffer Dy { float dy[]; };  // (planes, OH, OW)
layout(std430, binding = 1) buffer Dx { float dx[]; };           // (planes, H, W)

// The output indices o whose window [o*stride - padding, + kernel) contains input index v.
uvec2 windowsOver(uint v, uint outSize) {
    const int top = int(v + p.padding);
    const int first = max(top - int(p.kernel) + int(p.stride), 0) / int(p.stride);
    const int last = min(top / int(p.stride), int(outSize) - 1);
    return uvec2(first, max(last + 1, first));
}

void main() {
    const uint step = gl_NumWorkGroups.x * 64u;
    for (uint i = gl_GlobalInvocationID.x; i < p.count; i += step) {
        const uint ix = i % p.width;
        const uint t = i / p.width;
        const uint iy = t % p.height;
        const uint plane = t / p.height;
        const uvec2 rows = windowsOver(iy, p.outH);
        const uvec2 cols = windowsOver(ix, p.outW);
        float acc = dx[p.offDx + i];
        for (uint oy = rows.x; oy < rows.y; ++oy) {
            for (uint ox = cols.x; ox < cols.y; ++ox) {
                acc += dy[p.offY + (plane * p.outH + oy) * p.outW + ox] * p.scale;
            }
        }
        dx[p.offDx + i] = acc;
    }
}

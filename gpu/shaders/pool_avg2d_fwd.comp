#version 450
// avg_pool2d forward with count_include_pad: the window sum over k*k, padding counted as zeros.
#extension GL_GOOGLE_include_directive : require
#include "pool_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { PoolPush p; };
layout(std430, binding = 0) readonly buffer X { float x[]; };   // (planes, H, W)
layout(std430, binding = 1) writeonly buffer Y { float y[]; };  // (planes, OH, OW)

void main() {
    const uint step = gl_NumWorkGroups.x * 64u;
    for (uint i = gl_GlobalInvocationID.x; i < p.count; i += step) {
        const uint ox = i % p.outW;
        const uint t = i / p.outW;
        const uint oy = t % p.outH;
        const uint plane = t / p.outH;
        const uint base = p.offX + plane * p.height * p.width;
        float s = 0.0;
        for (uint ky = 0u; ky < p.kernel; ++ky) {
            const int iy = int(oy * p.stride + ky) - int(p.padding);
            if (iy < 0 || iy >= int(p.height)) continue;
            for (uint kx = 0u; kx < p.kernel; ++kx) {
                const int ix = int(ox * p.stride + kx) - int(p.padding);
                if (ix >= 0 && ix < int(p.width)) s += x[base + uint(iy) * p.width + uint(ix)];
            }
        }
        y[p.offY + i] = s * p.scale;
    }
}

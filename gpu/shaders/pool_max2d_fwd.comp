#version 450
// max_pool2d forward: the maximum of each window and where it came from (an index into the
// input plane, stored as an exact float), chosen exactly as the CPU kernel does: the first
// maximum in row-major window order wins ties, and a NaN propagates.
#extension GL_GOOGLE_include_directive : require
#include "pool_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { PoolPush p; };
layout(std430, binding = 0) readonly buffer X { float x[]; };     // (planes, H, W)
layout(std430, binding = 1) writeonly buffer Y { float y[]; };    // (planes, OH, OW)
layout(std430, binding = 2) writeonly buffer Arg { float arg[]; };  // (planes, OH, OW)

void main() {
    const uint step = gl_NumWorkGroups.x * 64u;
    for (uint i = gl_GlobalInvocationID.x; i < p.count; i += step) {
        const uint ox = i % p.outW;
        const uint t = i / p.outW;
        const uint oy = t % p.outH;
        const uint plane = t / p.outH;
        const uint base = p.offX + plane * p.height * p.width;
        float best = 0.0;
        int at = -1;
        for (uint ky = 0u; ky < p.kernel; ++ky) {
            const int iy = int(oy * p.stride + ky) - int(p.padding);
            if (iy < 0 || iy >= int(p.height)) continue;
            for (uint kx = 0u; kx < p.kernel; ++kx) {
                const int ix = int(ox * p.stride + kx) - int(p.padding);
                if (ix < 0 || ix >= int(p.width)) continue;
                const float v = x[base + uint(iy) * p.width + uint(ix)];
                // Like the CPU: a NaN ends the scan of its window row only.
                if (at < 0 || v > best || isnan(v)) {
                    best = v;
                    at = iy * int(p.width) + ix;
                    if (isnan(v)) break;
                }
            }
        }
        y[p.offY + i] = best;
        arg[p.offArg + i] = float(at);
    }
}

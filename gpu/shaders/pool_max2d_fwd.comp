#version 450
// max_pool2d forward: the maximum of each window and where it came from (an index into the
// input plane, stored as an exact float), chosen exactly as the CPU kernel does: the first
// maximum in row-major window order wins ties, and a NaN propagates.
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
layout(std430, binding = 0) readonly buffer X { float x[]; };     // (planes, H, W)
layout(std430, binding = 1) writeonly buffer Y { float y[]; };    // (planes, OH, OW)
layout(std430, binding = 2) writeonly buffer Arg { float arg[]; };  // (planes, OH, OW)

void main() {
    const uint step = gl_NumWorkGroups.x * 64u;
    for (uint i = gl_GlobalInvocationID.x; i < p.count; i += step) {
        const uint ox = i % kOutW;
        const uint t = i / kOutW;
        const uint oy = t % kOutH;
        const uint plane = t / kOutH;
        const uint base = p.offX + plane * kHeight * kWidth;
        float best = 0.0;
        int at = -1;
        for (uint ky = 0u; ky < kKernel; ++ky) {
            const int iy = int(oy * kStride + ky) - int(kPadding);
            if (iy < 0 || iy >= int(kHeight)) continue;
            for (uint kx = 0u; kx < kKernel; ++kx) {
                const int ix = int(ox * kStride + kx) - int(kPadding);
                if (ix < 0 || ix >= int(kWidth)) continue;
                const float v = x[base + uint(iy) * kWidth + uint(ix)];
                // Like the CPU: a NaN ends the scan of its window row only.
                if (at < 0 || v > best || isnan(v)) {
                    best = v;
                    at = iy * int(kWidth) + ix;
                    if (isnan(v)) break;
                }
            }
        }
        y[p.offY + i] = best;
        arg[p.offArg + i] = float(at);
    }
}

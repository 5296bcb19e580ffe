#version 450
// dx += col2im(dcol): the adjoint of im2col. One invocation per input pixel gathers the column
// entries that were read from it, so no two invocations write the same float (deterministic, no
// atomics). Taps are visited in the order the CPU's col2imAdd adds them (ky, then kx).
#extension GL_GOOGLE_include_directive : require
#include "conv_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { Im2colPush p; };
layout(std430, binding = 0) buffer Img { float dx[]; };           // (samples, C, H, W)
layout(std430, binding = 1) readonly buffer Col { float dcol[]; };  // (C*k*k, samples, OH*OW)

void main() {
    const uint positions = p.outH * p.outW;
    const uint step = gl_NumWorkGroups.x * 64u;
    for (uint i = gl_GlobalInvocationID.x; i < p.count; i += step) {
        const uint x = i % p.width;
        uint t = i / p.width;
        const uint y = t % p.height;
        t /= p.height;
        const uint ch = t % p.channels;
        const uint n = t / p.channels;
        float acc = dx[p.offImg + i];
        for (uint ky = 0u; ky < p.kernel; ++ky) {
            // The output row whose tap ky lands on input row y, if any.
            const int ty = int(y + p.padding) - int(ky * p.dilation);
            if (ty < 0) break;  // only decreases with ky
            if (uint(ty) % p.stride != 0u) continue;
            const uint oy = uint(ty) / p.stride;
            if (oy >= p.outH) continue;
            for (uint kx = 0u; kx < p.kernel; ++kx) {
                const int tx = int(x + p.padding) - int(kx * p.dilation);
                if (tx < 0) break;
                if (uint(tx) % p.stride != 0u) continue;
                const uint ox = uint(tx) / p.stride;
                if (ox >= p.outW) continue;
                const uint row = (ch * p.kernel + ky) * p.kernel + kx;
                acc += dcol[p.offCol + (row * p.samples + n) * positions + oy * p.outW + ox];
            }
        }
        dx[p.offImg + i] = acc;
    }
}

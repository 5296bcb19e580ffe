#version 450
// dx += col2im(dcol): the adjoint of im2col. One invocation per input pixel gathers the column
// entries that were read from it, so no two invocations write the same float (deterministic, no
// atomics); taps are visited in the order the CPU's col2imAdd adds them (ky, then kx).
// Workgroups walk planes (one channel of one sample, y) and pixels of a plane (x), so the plane's
// divisions are made once per plane rather than per pixel.
#extension GL_GOOGLE_include_directive : require
#include "conv_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { Im2colPush p; };
layout(std430, binding = 0) buffer Img { float dx[]; };           // (samples, C, H, W)
layout(std430, binding = 1) readonly buffer Col { float dcol[]; };  // (C*k*k, samples, OH*OW)

// The output index whose tap t lands on input index v (v + padding - t*dilation = o*stride),
// or -1 when there is none.
int sourceOf(uint v, uint t, uint outSize) {
    const int s = int(v + p.padding) - int(t * p.dilation);
    if (s < 0) return -1;
    if (p.stride == 1u) return s < int(outSize) ? s : -1;
    const uint o = uint(s) / p.stride;
    return (o * p.stride == uint(s) && o < outSize) ? int(o) : -1;
}

void main() {
    const uint positions = p.outH * p.outW;
    const uint pixels = p.height * p.width;
    const uint planes = p.samples * p.channels;
    const uint step = gl_NumWorkGroups.x * 64u;
    for (uint plane = gl_WorkGroupID.y; plane < planes; plane += gl_NumWorkGroups.y) {
        const uint n = plane / p.channels;
        const uint ch = plane - n * p.channels;
        // Row (ch*k + ky)*k + kx of the columns, for this sample.
        const uint colBase = p.offCol + (ch * p.kernel * p.kernel * p.samples + n) * positions;
        const uint rowStep = p.samples * positions;
        for (uint i = gl_GlobalInvocationID.x; i < pixels; i += step) {
            const uint y = i / p.width;
            const uint x = i - y * p.width;
            const uint at = p.offImg + plane * pixels + i;
            float acc = dx[at];
            for (uint ky = 0u; ky < p.kernel; ++ky) {
                const int oy = sourceOf(y, ky, p.outH);
                if (oy < 0) continue;
                for (uint kx = 0u; kx < p.kernel; ++kx) {
                    const int ox = sourceOf(x, kx, p.outW);
                    if (ox < 0) continue;
                    acc += dcol[colBase + (ky * p.kernel + kx) * rowStep + uint(oy) * p.outW +
                                uint(ox)];
                }
            }
            dx[at] = acc;
        }
    }
}

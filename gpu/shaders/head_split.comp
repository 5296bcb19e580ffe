#version 450
// Rows (N, L, stride) → head-major (N, H, L, Dh) for up to three column blocks (q, k, v), so
// each (sample, head) pair is one contiguous matrix for the batched products.
#extension GL_GOOGLE_include_directive : require
#include "head_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { HeadPush p; };
layout(std430, binding = 0) readonly buffer Rows { float rows[]; };
layout(std430, binding = 1) writeonly buffer H0 { float heads0[]; };
layout(std430, binding = 2) writeonly buffer H1 { float heads1[]; };
layout(std430, binding = 3) writeonly buffer H2 { float heads2[]; };

void main() {
    const uint e = p.h * p.dh;
    const uint per = p.n * p.l * e;  // elements per block
    const uint stride = gl_NumWorkGroups.x * 64u;
    for (uint i = gl_GlobalInvocationID.x; i < per * p.parts; i += stride) {
        const uint part = i / per;
        const uint k = i % per;  // head-major index ((b * H + hh) * L + t) * Dh + d
        const uint d = k % p.dh;
        const uint t = (k / p.dh) % p.l;
        const uint hh = (k / (p.dh * p.l)) % p.h;
        const uint b = k / (p.dh * p.l * p.h);
        const uint col = p.col0 + part * e + hh * p.dh + d;
        const float v = rows[p.offRows + (b * p.l + t) * p.stride + col];
        if (part == 0u) {
            heads0[p.offHeads0 + k] = v;
        } else if (part == 1u) {
            heads1[p.offHeads1 + k] = v;
        } else {
            heads2[p.offHeads2 + k] = v;
        }
    }
}

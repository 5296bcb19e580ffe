#version 450
// Head-major (N, H, L, Dh) → rows (N, L, stride) for up to three column blocks: the inverse of
// head_split.
#extension GL_GOOGLE_include_directive : require
#include "head_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { HeadPush p; };
layout(std430, binding = 0) writeonly buffer Rows { float rows[]; };
layout(std430, binding = 1) readonly buffer H0 { float heads0[]; };
layout(std430, binding = 2) readonly buffer H1 { float heads1[]; };
layout(std430, binding = 3) readonly buffer H2 { float heads2[]; };

// One invocation per (row, block, head) segment of Dh floats: the index arithmetic (integer
// divisions, which lavapipe does one lane at a time) once per segment, not once per float.
void main() {
    const uint e = p.h * p.dh;
    const uint segments = p.n * p.l * p.parts * p.h;
    const uint stride = gl_NumWorkGroups.x * 64u;
    for (uint i = gl_GlobalInvocationID.x; i < segments; i += stride) {
        const uint hh = i % p.h;
        const uint part = (i / p.h) % p.parts;
        const uint row = i / (p.h * p.parts);  // b * L + t
        const uint b = row / p.l;
        const uint t = row % p.l;
        const uint dst = p.offRows + row * p.stride + p.col0 + part * e + hh * p.dh;
        const uint src = ((b * p.h + hh) * p.l + t) * p.dh;  // head-major
        if (part == 0u) {
            for (uint d = 0u; d < p.dh; ++d) rows[dst + d] = heads0[p.offHeads0 + src + d];
        } else if (part == 1u) {
            for (uint d = 0u; d < p.dh; ++d) rows[dst + d] = heads1[p.offHeads1 + src + d];
        } else {
            for (uint d = 0u; d < p.dh; ++d) rows[dst + d] = heads2[p.offHeads2 + src + d];
        }
    }
}

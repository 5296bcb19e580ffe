#version 450
// Head-major (N, H, L, Dh) → rows (N, L, stride) for up to three column blocks: the inverse of
// head_split, iterating over the row-major side so its writes are consecutive.
#extension GL_GOOGLE_include_directive : require
#include "head_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { HeadPush p; };
layout(std430, binding = 0) writeonly buffer Rows { float rows[]; };
layout(std430, binding = 1) readonly buffer H0 { float heads0[]; };
layout(std430, binding = 2) readonly buffer H1 { float heads1[]; };
layout(std430, binding = 3) readonly buffer H2 { float heads2[]; };

void main() {
    const uint e = p.h * p.dh;
    const uint width = e * p.parts;  // columns written per row
    const uint stride = gl_NumWorkGroups.x * 64u;
    for (uint i = gl_GlobalInvocationID.x; i < p.n * p.l * width; i += stride) {
        const uint row = i / width;  // b * L + t
        const uint col = i % width;
        const uint part = col / e;
        const uint hh = (col % e) / p.dh;
        const uint d = col % p.dh;
        const uint b = row / p.l;
        const uint t = row % p.l;
        const uint k = ((b * p.h + hh) * p.l + t) * p.dh + d;
        float v;
        if (part == 0u) {
            v = heads0[p.offHeads0 + k];
        } else if (part == 1u) {
            v = heads1[p.offHeads1 + k];
        } else {
            v = heads2[p.offHeads2 + k];
        }
        rows[p.offRows + row * p.stride + p.col0 + col] = v;
    }
}

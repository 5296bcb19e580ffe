#version 450
// dW[row, j] += dy[p, j] for every position p selecting row, summed in increasing p exactly like
// the CPU: one invocation per (chain head, feature) walks its chain, so no two invocations touch
// one value and no float atomics are needed.
#extension GL_GOOGLE_include_directive : require
#include "rnn_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { EmbeddingPush p; };
layout(std430, binding = 0) readonly buffer Ids { float ids[]; };    // (P)
layout(std430, binding = 1) readonly buffer Links { uint links[]; }; // (2P)
layout(std430, binding = 2) readonly buffer Dy { float dy[]; };      // (P, dim)
layout(std430, binding = 3) buffer Dw { float dw[]; };               // (rows, dim)

void main() {
    const uint total = p.positions * p.dim;
    const uint stride = gl_NumWorkGroups.x * 64u;
    for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
        const uint pos = i / p.dim, j = i % p.dim;
        if (links[p.offLinks + p.positions + pos] == 0u) continue;
        const uint at = p.offW + uint(ids[p.offIds + pos]) * p.dim + j;
        float acc = dw[at];
        for (uint q = pos; q != 0xffffffffu; q = links[p.offLinks + q]) {
            acc += dy[p.offY + q * p.dim + j];
        }
        dw[at] = acc;
    }
}

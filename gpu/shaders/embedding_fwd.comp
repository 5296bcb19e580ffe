#version 450
// y[p, :] = weight[ids[p], :], zeros for ids outside [0, rows) (core/layers/recurrent.cpp).
#extension GL_GOOGLE_include_directive : require
#include "rnn_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { EmbeddingPush p; };
layout(std430, binding = 0) readonly buffer Ids { float ids[]; };  // (P)
layout(std430, binding = 1) readonly buffer W { float w[]; };      // (rows, dim)
layout(std430, binding = 2) writeonly buffer Y { float y[]; };     // (P, dim)

void main() {
    const uint total = p.positions * p.dim;
    const uint stride = gl_NumWorkGroups.x * 64u;
    for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
        const uint pos = i / p.dim, j = i % p.dim;
        const float id = ids[p.offIds + pos];
        // Written as the CPU's test so NaN ids fall outside too.
        const bool valid = id >= 0.0 && id < float(p.rows);
        y[p.offY + i] = valid ? w[p.offW + uint(id) * p.dim + j] : 0.0;
    }
}

#version 450
// Bias gradients of a recurrent layer direction: column sums of the gate gradients over all
// N * T rows, added into b_ih (from dxp) and b_hh (from dq). One invocation per (column, bias)
// walks the rows in order, so the sums are the same on every replay. Replaces two GEMMs with a
// row of ones, which on lavapipe spend 8x8 register tiles on a single output row.
#extension GL_GOOGLE_include_directive : require
#include "rnn_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { RnnBiasBwdPush p; };
layout(std430, binding = 0) readonly buffer Dxp { float dxp[]; };  // (N*T, G*H)
layout(std430, binding = 1) readonly buffer Dq { float dq[]; };    // (N*T, G*H)
layout(std430, binding = 2) buffer DbIh { float dbIh[]; };         // (G*H)
layout(std430, binding = 3) buffer DbHh { float dbHh[]; };         // (G*H)

void main() {
    const uint c = gl_GlobalInvocationID.x;
    if (c >= p.cols) return;
    if (gl_WorkGroupID.y == 0u) {
        if (p.hasIh == 0u) return;
        float s = 0.0;
        for (uint r = 0u; r < p.rows; ++r) s += dxp[p.offDxp + r * p.cols + c];
        dbIh[p.offDbIh + c] += s;
    } else {
        if (p.hasHh == 0u) return;
        float s = 0.0;
        for (uint r = 0u; r < p.rows; ++r) s += dq[p.offDq + r * p.cols + c];
        dbHh[p.offDbHh + c] += s;
    }
}

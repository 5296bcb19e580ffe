#version 450
// dx += y * (dy - sum(dy * y)) along a middle dimension, one invocation per (outer, inner) column.
#extension GL_GOOGLE_include_directive : require
#include "softmax_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { SoftmaxPush p; };
layout(std430, binding = 0) readonly buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer Dy { float dy[]; };
layout(std430, binding = 2) buffer Dx { float dx[]; };

void main() {
    const uint stride = gl_NumWorkGroups.x * 64u;
    for (uint col = gl_GlobalInvocationID.x; col < p.rows; col += stride) {
        const uint o = col / p.inner;
        const uint base = o * p.cols * p.inner + (col - o * p.inner);
        float dot = 0.0;
        for (uint k = 0u; k < p.cols; ++k) {
            const uint i = base + k * p.inner;
            dot += dy[p.offY + i] * y[p.offX + i];
        }
        for (uint k = 0u; k < p.cols; ++k) {
            const uint i = base + k * p.inner;
            dx[p.offDx + i] += y[p.offX + i] * (dy[p.offY + i] - dot);
        }
    }
}

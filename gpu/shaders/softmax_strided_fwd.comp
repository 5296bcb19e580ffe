#version 450
// Softmax over a middle dimension: x viewed as (outer, len, inner), one invocation per
// (outer, inner) column; neighbouring invocations read neighbouring floats.
#extension GL_GOOGLE_include_directive : require
#include "softmax_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { SoftmaxPush p; };
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) buffer Y { float y[]; };

void main() {
    const uint stride = gl_NumWorkGroups.x * 64u;
    for (uint col = gl_GlobalInvocationID.x; col < p.rows; col += stride) {
        const uint o = col / p.inner;
        const uint base = o * p.cols * p.inner + (col - o * p.inner);
        float m = x[p.offX + base];
        for (uint k = 1u; k < p.cols; ++k) m = max(m, x[p.offX + base + k * p.inner]);
        float s = 0.0;
        for (uint k = 0u; k < p.cols; ++k) {
            const float e = exp(x[p.offX + base + k * p.inner] - m);
            y[p.offY + base + k * p.inner] = e;
            s += e;
        }
        const float inv = 1.0 / s;
        for (uint k = 0u; k < p.cols; ++k) y[p.offY + base + k * p.inner] *= inv;
    }
}

#version 450
// Softmax of each row of a (rows, cols) matrix: one workgroup per row (grid-stride over rows),
// max and sum reduced through shared memory.
#extension GL_GOOGLE_include_directive : require
#include "softmax_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { SoftmaxPush p; };
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) buffer Y { float y[]; };

shared float partial[64];

float reduce(float v, bool isMax) {
    const uint t = gl_LocalInvocationID.x;
    partial[t] = v;
    barrier();
    for (uint s = 32u; s > 0u; s >>= 1u) {
        if (t < s) {
            partial[t] = isMax ? max(partial[t], partial[t + s]) : partial[t] + partial[t + s];
        }
        barrier();
    }
    float r = partial[0];
    barrier();
    return r;
}

void main() {
    const uint t = gl_LocalInvocationID.x;
    for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
        const uint xb = p.offX + row * p.cols;
        const uint yb = p.offY + row * p.cols;
        float m = -3.402823466e38;
        for (uint c = t; c < p.cols; c += 64u) m = max(m, x[xb + c]);
        m = reduce(m, true);
        float s = 0.0;
        for (uint c = t; c < p.cols; c += 64u) {
            float e = exp(x[xb + c] - m);
            y[yb + c] = e;
            s += e;
        }
        s = reduce(s, false);
        const float inv = 1.0 / s;
        for (uint c = t; c < p.cols; c += 64u) y[yb + c] *= inv;
    }
}

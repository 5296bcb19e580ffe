#version 450
// dx += y * (dy - sum(dy * y)) per row, from the saved output y.
#extension GL_GOOGLE_include_directive : require
#include "softmax_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { SoftmaxPush p; };
layout(std430, binding = 0) readonly buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer Dy { float dy[]; };
layout(std430, binding = 2) buffer Dx { float dx[]; };

shared float partial[64];

void main() {
    const uint t = gl_LocalInvocationID.x;
    for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
        const uint yb = p.offX + row * p.cols;
        const uint db = p.offY + row * p.cols;
        const uint xb = p.offDx + row * p.cols;
        float s = 0.0;
        for (uint c = t; c < p.cols; c += 64u) s += dy[db + c] * y[yb + c];
        partial[t] = s;
        barrier();
        for (uint h = 32u; h > 0u; h >>= 1u) {
            if (t < h) partial[t] += partial[t + h];
            barrier();
        }
        const float dot = partial[0];
        barrier();
        for (uint c = t; c < p.cols; c += 64u) dx[xb + c] += y[yb + c] * (dy[db + c] - dot);
    }
}

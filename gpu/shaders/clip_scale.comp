#version 450
// PyTorch's clip_grad_norm_: when the norm sqrt(sum) is above clipTo (and finite), scales the
// gradients by clipTo / (norm + 1e-6). The sum is read from device memory, written by
// sum_squares_final earlier in the same step.
#extension GL_GOOGLE_include_directive : require
#include "grad_norm_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { GradNormPush p; };
layout(std430, binding = 0) buffer Grads { float grads[]; };
layout(std430, binding = 1) readonly buffer Sum { float sumSquares[]; };

void main() {
    const float norm = sqrt(sumSquares[p.offOut]);
    if (!(norm > p.clipTo) || isinf(norm)) return;
    const float scale = p.clipTo / (norm + 1e-6);
    const uint stride = gl_NumWorkGroups.x * 64u;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) grads[p.offIn + i] *= scale;
}

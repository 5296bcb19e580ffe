#version 450
// Stage 2 of the gradient norm: one workgroup adds the n partial sums, in a fixed order, into
// result[offOut].
#extension GL_GOOGLE_include_directive : require
#include "grad_norm_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { GradNormPush p; };
layout(std430, binding = 0) readonly buffer Partials { float partials[]; };
layout(std430, binding = 1) writeonly buffer Result { float result[]; };

shared float lanes[64];

void main() {
    const uint lane = gl_LocalInvocationID.x;
    float s = 0.0;
    for (uint i = lane; i < p.n; i += 64u) s += partials[p.offIn + i];
    lanes[lane] = s;
    barrier();
    for (uint width = 32u; width > 0u; width >>= 1u) {
        if (lane < width) lanes[lane] += lanes[lane + width];
        barrier();
    }
    if (lane == 0u) result[p.offOut] = lanes[0];
}

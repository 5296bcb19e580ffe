#version 450
// Stage 1 of the gradient norm: workgroup g writes the sum of squares of its share of the chunk
// to partial[offOut + g]. Every invocation adds a fixed strided subset in order and the
// workgroup combines them in a fixed tree, so the result is the same on every run (no atomics).
#extension GL_GOOGLE_include_directive : require
#include "grad_norm_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { GradNormPush p; };
layout(std430, binding = 0) readonly buffer Values { float values[]; };
layout(std430, binding = 1) writeonly buffer Partials { float partials[]; };

shared float lanes[64];

void main() {
    const uint stride = gl_NumWorkGroups.x * 64u;
    float s = 0.0;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        const float v = values[p.offIn + i];
        s += v * v;
    }
    const uint lane = gl_LocalInvocationID.x;
    lanes[lane] = s;
    barrier();
    for (uint width = 32u; width > 0u; width >>= 1u) {
        if (lane < width) lanes[lane] += lanes[lane + width];
        barrier();
    }
    if (lane == 0u) partials[p.offOut + gl_WorkGroupID.x] = lanes[0];
}

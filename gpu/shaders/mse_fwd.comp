#version 450
// Partial sums of (x - t)^2, one per workgroup over a grid-stride range; reduce_sum.comp divides
// their total by n. The number of workgroups is fixed at record time, so the sum is too.
#extension GL_GOOGLE_include_directive : require
#include "loss_push.h"
#define REDUCE_WIDTH 64u
#include "reduce.glsl"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { PairLossPush p; };
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer T { float target[]; };
layout(std430, binding = 2) writeonly buffer Partial { float partial[]; };

void main() {
    const uint stride = gl_NumWorkGroups.x * 64u;
    float s = 0.0;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        const float d = x[p.offX + i] - target[p.offT + i];
        s += d * d;
    }
    s = workgroupSum(s);
    if (gl_LocalInvocationID.x == 0u) partial[p.offPartial + gl_WorkGroupID.x] = s;
}

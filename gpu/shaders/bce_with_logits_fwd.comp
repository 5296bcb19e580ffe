#version 450
// Partial sums of max(x, 0) - x t + log(1 + exp(-|x|)), which never exponentiates a large
// positive number; one per workgroup, reduced by reduce_sum.comp.
#extension GL_GOOGLE_include_directive : require
#include "loss_push.h"
#define REDUCE_WIDTH 64u
#include "reduce.glsl"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { PairLossPush p; };
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer T { float target[]; };
layout(std430, binding = 2) writeonly buffer Partial { float partial[]; };

// log(1 + e) for e in [0, 1], accurate where e is tiny (log(1 + e) would round to 0).
float log1pSmall(float e) {
    const float u = 1.0 + e;
    return u == 1.0 ? e : log(u) * e / (u - 1.0);
}

void main() {
    const uint stride = gl_NumWorkGroups.x * 64u;
    float s = 0.0;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        const float v = x[p.offX + i];
        s += max(v, 0.0) - v * target[p.offT + i] + log1pSmall(exp(-abs(v)));
    }
    s = workgroupSum(s);
    if (gl_LocalInvocationID.x == 0u) partial[p.offPartial + gl_WorkGroupID.x] = s;
}

#version 450
// out = scale * sum(a), or sum(a) / sum(b): one workgroup, a fixed tree, so the loss has the same
// bits every step.
#extension GL_GOOGLE_include_directive : require
#include "reduce_push.h"
#define REDUCE_WIDTH 256u
#include "reduce.glsl"

layout(local_size_x = 256) in;
layout(push_constant) uniform Push { ReducePush p; };
layout(std430, binding = 0) readonly buffer In { float v[]; };
layout(std430, binding = 1) writeonly buffer Out { float outValue[]; };

void main() {
    const uint t = gl_LocalInvocationID.x;
    vec2 s = vec2(0.0);
    for (uint i = t; i < p.n; i += 256u) {
        s.x += v[p.offA + i];
        if (p.ratio != 0u) s.y += v[p.offB + i];
    }
    s = workgroupSum2(s);
    if (t != 0u) return;
    if (p.ratio != 0u) {
        // Every target ignored: PyTorch gives NaN (0/0); 0 keeps training alive, as on the CPU.
        outValue[p.offOut] = s.y > 0.0 ? s.x / s.y : 0.0;
    } else {
        outValue[p.offOut] = p.scale * s.x;
    }
}

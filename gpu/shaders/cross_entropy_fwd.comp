#version 450
// Fused log-softmax + NLL with label smoothing, one workgroup per row (grid-stride over rows):
// partial[r] = (1 - e) (logZ - x[t]) + e (logZ - mean(x)), partial[countAt + r] = 1 for a
// counted target; both 0 for an ignored one (ignore_index, or a class outside [0, C) as on the
// CPU). countAt is the rows of the whole loss, so a part of the rows writes its part of each.
#extension GL_GOOGLE_include_directive : require
#include "loss_push.h"
#define REDUCE_WIDTH 64u
#include "reduce.glsl"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { CrossEntropyPush p; };
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer T { float target[]; };
layout(std430, binding = 2) writeonly buffer Partial { float partial[]; };

void main() {
    const uint t = gl_LocalInvocationID.x;
    for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
        const int cls = int(round(target[p.offT + row]));
        // Uniform across the workgroup (one row), so the reductions below stay in uniform flow.
        if (cls == p.ignoreIndex || cls < 0 || cls >= int(p.classes)) {
            if (t == 0u) {
                partial[p.offPartial + row] = 0.0;
                partial[p.offPartial + p.countAt + row] = 0.0;
            }
            continue;
        }
        const uint xb = p.offX + row * p.classes;
        float m = -3.402823466e38;
        for (uint k = t; k < p.classes; k += 64u) m = max(m, x[xb + k]);
        m = workgroupMax(m);
        vec2 s = vec2(0.0);  // (sum exp(x - m), sum x)
        for (uint k = t; k < p.classes; k += 64u) {
            const float v = x[xb + k];
            s += vec2(exp(v - m), v);
        }
        s = workgroupSum2(s);
        if (t == 0u) {
            const float logZ = m + log(s.x);
            const float nll = logZ - x[xb + uint(cls)];
            const float uniformPart = logZ - s.y / float(p.classes);
            partial[p.offPartial + row] = (1.0 - p.smoothing) * nll + p.smoothing * uniformPart;
            partial[p.offPartial + p.countAt + row] = 1.0;
        }
    }
}

#version 450
// One workgroup: correct += #rows whose prediction equals a counted target (not ignore_index,
// inside [0, classes)), counted += #counted targets. Integer counts in a fixed tree: exact.
#extension GL_GOOGLE_include_directive : require
#include "argmax_push.h"
#define REDUCE_WIDTH 256u
#include "reduce.glsl"

layout(local_size_x = 256) in;
layout(push_constant) uniform Push { ArgmaxPush p; };
layout(std430, binding = 0) readonly buffer Targets { float targets[]; };
layout(std430, binding = 1) readonly buffer Pred { float pred[]; };
layout(std430, binding = 2) buffer Correct { float correct[]; };
layout(std430, binding = 3) buffer Counted { float counted[]; };

void main() {
    const uint t = gl_LocalInvocationID.x;
    vec2 s = vec2(0.0);  // (correct, counted)
    for (uint r = t; r < p.rows; r += 256u) {
        const int cls = int(round(targets[p.offTargets + r]));
        if (cls == p.ignoreIndex || cls < 0 || cls >= int(p.classes)) continue;
        s += vec2(int(round(pred[p.offPred + r])) == cls ? 1.0 : 0.0, 1.0);
    }
    s = workgroupSum2(s);
    if (t != 0u) return;
    correct[p.offCorrect] += s.x;
    if (p.hasCounted != 0u) counted[p.offCounted] += s.y;
}

#version 450
// batch_norm backward, one workgroup per channel. With xhat = (x - mean) * invstd:
// dgamma += sum(dy * xhat), dbeta += sum(dy); in training (statistics depend on x)
// dx += gamma * invstd * (dy - mean(dy) - xhat * mean(dy * xhat));
// in eval dx += gamma * invstd * dy.
#extension GL_GOOGLE_include_directive : require
#include "batch_norm_push.h"
#define REDUCE_WIDTH 128u
#include "reduce.glsl"

layout(local_size_x = 128) in;
layout(push_constant) uniform Push { BatchNormBwdPush p; };
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Dy { float dy[]; };
layout(std430, binding = 2) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 3) readonly buffer Mean { float mean[]; };
layout(std430, binding = 4) readonly buffer Invstd { float invstd[]; };
layout(std430, binding = 5) buffer Dx { float dx[]; };
layout(std430, binding = 6) buffer Dgamma { float dgamma[]; };
layout(std430, binding = 7) buffer Dbeta { float dbeta[]; };

uint at(uint j, uint ch) {
    const uint s = j / p.inner;
    return (s * p.channels + ch) * p.inner + (j - s * p.inner);
}

void main() {
    const uint t = gl_LocalInvocationID.x;
    const uint count = p.n * p.inner;
    for (uint ch = gl_WorkGroupID.x; ch < p.channels; ch += gl_NumWorkGroups.x) {
        const float mu = mean[p.offMean + ch], inv = invstd[p.offInvstd + ch];
        vec2 s = vec2(0.0);  // (sum dy, sum dy * xhat)
        for (uint j = t; j < count; j += 128u) {
            const uint i = at(j, ch);
            const float d = dy[p.offDy + i];
            s += vec2(d, d * (x[p.offX + i] - mu) * inv);
        }
        s = workgroupSum2(s);
        if (t == 0u) {
            if (p.hasDgamma != 0u) dgamma[p.offDgamma + ch] += s.y;
            if (p.hasDbeta != 0u) dbeta[p.offDbeta + ch] += s.x;
        }
        if (p.hasDx == 0u) continue;
        const float scale = gamma[p.offGamma + ch] * inv;
        const float meanDy = p.training != 0u ? s.x / float(count) : 0.0;
        const float meanDyXhat = p.training != 0u ? s.y / float(count) : 0.0;
        for (uint j = t; j < count; j += 128u) {
            const uint i = at(j, ch);
            const float xhat = (x[p.offX + i] - mu) * inv;
            dx[p.offDx + i] += scale * (dy[p.offDy + i] - meanDy - xhat * meanDyXhat);
        }
    }
}

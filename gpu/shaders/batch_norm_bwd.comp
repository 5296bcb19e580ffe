#version 450
// batch_norm backward, one workgroup per channel. With xhat = (x - mean) * invstd:
// dgamma += sum(dy * xhat), dbeta += sum(dy); in training (statistics depend on x)
// dx += gamma * invstd * (dy - mean(dy) - xhat * mean(dy * xhat));
// in eval dx += gamma * invstd * dy.
// Whole tensor (phase 0): sums and updates in one dispatch. Split: the sums accumulate over the
// chunks (phase 1), then every chunk applies them (phase 2).
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
// Split only: per channel (sum dy, sum dy * xhat).
layout(std430, binding = 8) buffer Sums { float sums[]; };

uint at(uint j, uint c) {
    const uint s = j / p.chunkInner;
    return (s * p.channels + c) * p.inner + (j - s * p.chunkInner);
}

void main() {
    const uint t = gl_LocalInvocationID.x;
    const uint values = p.n * p.chunkInner;
    for (uint c = gl_WorkGroupID.x; c < p.chunkChannels; c += gl_NumWorkGroups.x) {
        const uint ch = p.channel0 + c;
        const float mu = mean[p.offMean + ch], inv = invstd[p.offInvstd + ch];
        vec2 s;
        if (p.phase == STRATA_BN_GRAD_APPLY) {
            s = vec2(sums[p.offSums + 2u * ch], sums[p.offSums + 2u * ch + 1u]);
        } else {
            s = vec2(0.0);
            for (uint j = t; j < values; j += 128u) {
                const uint i = at(j, c);
                const float d = dy[p.offDy + i];
                s += vec2(d, d * (x[p.offX + i] - mu) * inv);
            }
            s = workgroupSum2(s);
        }
        if (p.phase == STRATA_BN_GRAD_SUMS) {
            if (t == 0u) {
                const uint at0 = p.offSums + 2u * ch;
                if (p.first == 0u) s += vec2(sums[at0], sums[at0 + 1u]);
                sums[at0] = s.x;
                sums[at0 + 1u] = s.y;
            }
            continue;
        }
        if (t == 0u && p.first != 0u) {
            if (p.hasDgamma != 0u) dgamma[p.offDgamma + c] += s.y;
            if (p.hasDbeta != 0u) dbeta[p.offDbeta + c] += s.x;
        }
        if (p.hasDx == 0u) continue;
        const float scale = gamma[p.offGamma + ch] * inv;
        const float meanDy = p.training != 0u ? s.x / float(p.count) : 0.0;
        const float meanDyXhat = p.training != 0u ? s.y / float(p.count) : 0.0;
        for (uint j = t; j < values; j += 128u) {
            const uint i = at(j, c);
            const float xhat = (x[p.offX + i] - mu) * inv;
            dx[p.offDx + i] += scale * (dy[p.offDy + i] - meanDy - xhat * meanDyXhat);
        }
    }
}

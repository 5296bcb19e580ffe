#version 450
// dScores = P * (dP' - rowsum(dP' * P)) in place over dP, where dP' = dP through forward's
// dropout mask (regenerated from the same seed), one invocation per row.
#extension GL_GOOGLE_include_directive : require
#include "attention_push.h"
#include "attention_random.glsl"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { AttentionSoftmaxPush p; };
layout(std430, binding = 0) readonly buffer P { float probs[]; };
layout(std430, binding = 1) buffer D { float grad[]; };
layout(std430, binding = 2) readonly buffer Seed { uint seedWords[]; };

void main() {
    const uint stride = gl_NumWorkGroups.x * 64u;
    // The seed buffer is bound only when dropout is on.
    const uvec2 siteSeed = p.dropOn != 0u
        ? strataSiteSeed(uvec2(seedWords[p.offSeed], seedWords[p.offSeed + 1u]), p.site)
        : uvec2(0u);
    for (uint r = gl_GlobalInvocationID.x; r < p.rows; r += stride) {
        const uint pb = p.offP + r * p.s;
        const uint db = p.offD + r * p.s;
        float dot = 0.0;
        for (uint j = 0u; j < p.s; ++j) {
            float g = grad[db + j];
            if (p.dropOn != 0u) g = strataDropout(siteSeed, (p.firstRow + r) * p.s + j, p.p, g);
            grad[db + j] = g;
            dot += g * probs[pb + j];
        }
        for (uint j = 0u; j < p.s; ++j) grad[db + j] = probs[pb + j] * (grad[db + j] - dot);
    }
}

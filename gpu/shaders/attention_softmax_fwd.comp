#version 450
// Attention probabilities from scores, in place, one invocation per row (a query position of one
// sample and head): causal rows see columns 0..i only (the rest get exactly 0, as the CPU), and
// with dropout on, the dropped probabilities that multiply v go to a second buffer while the
// undropped ones stay for the attention view and backward.
#extension GL_GOOGLE_include_directive : require
#include "attention_push.h"
#include "attention_random.glsl"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { AttentionSoftmaxPush p; };
layout(std430, binding = 0) buffer P { float probs[]; };
layout(std430, binding = 1) writeonly buffer D { float dropped[]; };
layout(std430, binding = 2) readonly buffer Seed { uint seedWords[]; };

void main() {
    const uint stride = gl_NumWorkGroups.x * 64u;
    // The seed buffer is bound only when dropout is on.
    const uvec2 siteSeed = p.dropOn != 0u
        ? strataSiteSeed(uvec2(seedWords[p.offSeed], seedWords[p.offSeed + 1u]), p.site)
        : uvec2(0u);
    for (uint r = gl_GlobalInvocationID.x; r < p.rows; r += stride) {
        const uint b = p.offP + r * p.s;
        const uint valid = p.causal != 0u ? min((p.firstRow + r) % p.t + 1u, p.s) : p.s;
        float m = -3.402823466e38;
        for (uint j = 0u; j < valid; ++j) m = max(m, probs[b + j]);
        float sum = 0.0;
        for (uint j = 0u; j < valid; ++j) {
            const float e = exp(probs[b + j] - m);
            probs[b + j] = e;
            sum += e;
        }
        const float inv = 1.0 / sum;
        for (uint j = 0u; j < p.s; ++j) {
            const float v = j < valid ? probs[b + j] * inv : 0.0;
            probs[b + j] = v;
            if (p.dropOn != 0u) {
                const uint drawn = (p.firstRow + r) * p.s + j;  // the whole tensor's index
                dropped[p.offD + r * p.s + j] = strataDropout(siteSeed, drawn, p.p, v);
            }
        }
    }
}

#version 450
// The transformer block's seeded elementwise steps (modes in attention_push.h): residual sums
// with dropout, activation with dropout, and their gradients. drop() regenerates the mask of
// element i from the op's seed buffer and the site, so forward and backward agree.
#extension GL_GOOGLE_include_directive : require
#include "attention_push.h"
#include "attention_random.glsl"
#include "activation.glsl"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { AttentionEltwisePush p; };
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) buffer Y { float y[]; };
layout(std430, binding = 3) readonly buffer Seed { uint seedWords[]; };

void main() {
    const uint stride = gl_NumWorkGroups.x * 64u;
    // The seed buffer is bound only when dropout is on.
    const uvec2 siteSeed = p.dropOn != 0u
        ? strataSiteSeed(uvec2(seedWords[p.offSeed], seedWords[p.offSeed + 1u]), p.site)
        : uvec2(0u);
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        float v = b[p.offB + i];
        if (p.mode == STRATA_ATTN_ACT_DROP) v = activate(p.activation, v, 0.0);
        if (p.dropOn != 0u) v = strataDropout(siteSeed, p.first + i, p.p, v);
        if (p.mode == STRATA_ATTN_RESIDUAL_DROP) v += a[p.offA + i];
        if (p.mode == STRATA_ATTN_DROP_ACT_GRAD) {
            v *= activateDerivative(p.activation, a[p.offA + i], 0.0);
        }
        const bool add = p.accumulate != 0u &&
                         (p.mode == STRATA_ATTN_DROP || p.mode == STRATA_ATTN_DROP_ACT_GRAD);
        y[p.offY + i] = add ? y[p.offY + i] + v : v;
    }
}

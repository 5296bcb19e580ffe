#version 450
// g = drop(dy) with forward's mask; dx += g and table[t, j] += sum over the batch of g, in one
// dispatch: items [0, N*T*D) are dx elements, the next T*D items table rows (batch summed in
// order by one invocation: deterministic, no float atomics).
#extension GL_GOOGLE_include_directive : require
#include "positional_push.h"
#include "attention_random.glsl"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { PositionalPush p; };
layout(std430, binding = 0) readonly buffer Dy { float dy[]; };
layout(std430, binding = 1) buffer Dx { float dx[]; };
layout(std430, binding = 2) buffer Dw { float dw[]; };
layout(std430, binding = 3) readonly buffer Seed { uint seedWords[]; };

void main() {
    // The seed buffer is bound only when dropout is on; site 0 is the op's own seed.
    const uvec2 seed =
        p.dropOn != 0u ? uvec2(seedWords[p.offSeed], seedWords[p.offSeed + 1u]) : uvec2(0u);
    const uint perSample = p.t * p.d;
    const uint dxItems = p.hasOut != 0u ? p.n * perSample : 0u;
    const uint items = dxItems + (p.hasW != 0u ? perSample : 0u);
    const uint stride = gl_NumWorkGroups.x * 64u;
    for (uint i = gl_GlobalInvocationID.x; i < items; i += stride) {
        if (i < dxItems) {
            float g = dy[p.offIn + i];
            if (p.dropOn != 0u) g = strataDropout(seed, p.firstSample * perSample + i, p.p, g);
            dx[p.offOut + i] += g;
            continue;
        }
        const uint k = i - dxItems;
        float sum = 0.0;
        for (uint b = 0u; b < p.n; ++b) {
            const uint at = b * perSample + k;
            float g = dy[p.offIn + at];
            if (p.dropOn != 0u) g = strataDropout(seed, p.firstSample * perSample + at, p.p, g);
            sum += g;
        }
        dw[p.offW + k] += sum;
    }
}

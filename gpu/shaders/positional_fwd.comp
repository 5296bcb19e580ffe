#version 450
// y = drop(x + pe[t]) with pe the PyTorch tutorial's sine table (computed here) or a learned
// table (max_len, D); dropout site 0 of the op's seed, as the CPU.
#extension GL_GOOGLE_include_directive : require
#include "positional_push.h"
#include "attention_random.glsl"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { PositionalPush p; };
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(std430, binding = 2) readonly buffer W { float table[]; };
layout(std430, binding = 3) readonly buffer Seed { uint seedWords[]; };

// pe[t, 2i] = sin(t / 10000^(2i/D)), pe[t, 2i+1] = cos(same).
float sinusoid(uint t, uint j) {
    const uint even = j - (j % 2u);
    const float freq = exp(-float(even) * (9.210340371976184 / float(p.d)));  // ln 10000
    const float angle = float(t) * freq;
    return (j % 2u) == 0u ? sin(angle) : cos(angle);
}

void main() {
    // The seed buffer is bound only when dropout is on; site 0 is the op's own seed.
    const uvec2 seed =
        p.dropOn != 0u ? uvec2(seedWords[p.offSeed], seedWords[p.offSeed + 1u]) : uvec2(0u);
    const uint perSample = p.t * p.d;
    const uint stride = gl_NumWorkGroups.x * 64u;
    for (uint i = gl_GlobalInvocationID.x; i < p.n * perSample; i += stride) {
        const uint k = i % perSample;  // t * D + j
        const float pe = p.learned != 0u ? table[p.offW + k] : sinusoid(k / p.d, k % p.d);
        float v = x[p.offIn + i] + pe;
        if (p.dropOn != 0u) v = strataDropout(seed, p.firstSample * perSample + i, p.p, v);
        y[p.offOut + i] = v;
    }
}

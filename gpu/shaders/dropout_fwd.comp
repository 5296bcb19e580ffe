#version 450
// Inverted dropout: keep x / (1 - p) where uniform01(seed, i) >= p, else 0. The mask is never
// stored: backward regenerates it from the same seed. The seed is read from device memory
// because the backend rewrites it before every replay of a recorded step.
#extension GL_GOOGLE_include_directive : require
#include "eltwise_push.h"
#include "random.glsl"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { EltwisePush p; };
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(std430, binding = 2) readonly buffer Seed { uint seed[]; };

void main() {
    const uint stride = gl_NumWorkGroups.x * 64u;
    const float scale = 1.0 / (1.0 - p.param);
    const uint lo = seed[p.offSeed], hi = seed[p.offSeed + 1u];
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        bool keep = strataUniform01(lo, hi, p.indexBase + i) >= p.param;
        y[p.offY + i] = keep ? x[p.offX + i] * scale : 0.0;
    }
}

#version 450
// Inverted dropout: keep x / (1 - p) where uniform01(seed, i) >= p, else 0. The mask is never
// stored: backward regenerates it from the same seed.
#extension GL_GOOGLE_include_directive : require
#include "eltwise_push.h"
#include "random.glsl"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { EltwisePush p; };
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };

void main() {
    const uint stride = gl_NumWorkGroups.x * 64u;
    const float scale = 1.0 / (1.0 - p.param);
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        bool keep = strataUniform01(p.seedLo, p.seedHi, p.indexBase + i) >= p.param;
        y[p.offY + i] = keep ? x[p.offX + i] * scale : 0.0;
    }
}

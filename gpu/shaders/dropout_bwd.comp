#version 450
// dx += dy * mask / (1 - p), with forward's mask regenerated from the seed in device memory.
#extension GL_GOOGLE_include_directive : require
#include "eltwise_push.h"
#include "random.glsl"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { EltwisePush p; };
layout(std430, binding = 0) readonly buffer Dy { float dy[]; };
layout(std430, binding = 1) buffer Dx { float dx[]; };
layout(std430, binding = 2) readonly buffer Seed { uint seed[]; };

void main() {
    const uint stride = gl_NumWorkGroups.x * 64u;
    const float scale = 1.0 / (1.0 - p.param);
    const uint lo = seed[p.offSeed], hi = seed[p.offSeed + 1u];
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        if (strataUniform01(lo, hi, p.indexBase + i) >= p.param) {
            dx[p.offDx + i] += dy[p.offY + i] * scale;
        }
    }
}

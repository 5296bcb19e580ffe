#version 450
// dx += dy * mask / (1 - p), with forward's mask regenerated from the seed.
#extension GL_GOOGLE_include_directive : require
#include "eltwise_push.h"
#include "random.glsl"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { EltwisePush p; };
layout(std430, binding = 0) readonly buffer Dy { float dy[]; };
layout(std430, binding = 1) buffer Dx { float dx[]; };

void main() {
    const uint stride = gl_NumWorkGroups.x * 64u;
    const float scale = 1.0 / (1.0 - p.param);
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        if (strataUniform01(p.seedLo, p.seedHi, p.indexBase + i) >= p.param) {
            dx[p.offDx + i] += dy[p.offY + i] * scale;
        }
    }
}

#version 450
// mse backward: g = 2 dLoss / n * (x - t); dx += g, dt -= g. dLoss is read from device memory.
#extension GL_GOOGLE_include_directive : require
#include "loss_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { PairLossPush p; };
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer T { float target[]; };
layout(std430, binding = 2) readonly buffer Grad { float grad[]; };
layout(std430, binding = 3) buffer Dx { float dx[]; };
layout(std430, binding = 4) buffer Dt { float dt[]; };

void main() {
    const float scale = 2.0 * grad[p.offGrad] / float(p.total);
    const uint stride = gl_NumWorkGroups.x * 64u;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        const float g = scale * (x[p.offX + i] - target[p.offT + i]);
        if (p.hasDx != 0u) dx[p.offDx + i] += g;
        if (p.hasDt != 0u) dt[p.offDt + i] -= g;
    }
}

#version 450
// global_avg_pool2d backward: dx += dy / (H*W) over each plane.
#extension GL_GOOGLE_include_directive : require
#include "pool_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { PoolPush p; };
layout(std430, binding = 0) readonly buffer Dy { float dy[]; };  // (planes)
layout(std430, binding = 1) buffer Dx { float dx[]; };           // (planes, H, W)

void main() {
    const uint hw = p.height * p.width;
    const uint step = gl_NumWorkGroups.x * 64u;
    for (uint i = gl_GlobalInvocationID.x; i < p.count; i += step) {
        dx[p.offDx + i] += dy[p.offY + i / hw] / float(hw);  // the CPU's rounding
    }
}

#version 450
// global_avg_pool2d forward: the mean of each (H, W) plane, one plane per iteration.
#extension GL_GOOGLE_include_directive : require
#include "pool_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { PoolPush p; };
layout(std430, binding = 0) readonly buffer X { float x[]; };   // (planes, H, W)
layout(std430, binding = 1) writeonly buffer Y { float y[]; };  // (planes)

void main() {
    const uint hw = p.height * p.width;
    const uint step = gl_NumWorkGroups.x * 64u;
    for (uint i = gl_GlobalInvocationID.x; i < p.count; i += step) {
        const uint base = p.offX + i * hw;
        // Two partial sums keep the rounding error of long planes closer to the CPU's double.
        float s0 = 0.0, s1 = 0.0;
        uint j = 0u;
        for (; j + 1u < hw; j += 2u) {
            s0 += x[base + j];
            s1 += x[base + j + 1u];
        }
        if (j < hw) s0 += x[base + j];
        y[p.offY + i] = (s0 + s1) / float(hw);
    }
}

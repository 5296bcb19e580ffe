#version 450
// torch.optim.SGD over a whole arena: d = g + wd p; buf = momentum buf + (1 - dampening) d (buf =
// d on the first step); d = nesterov ? d + momentum buf : buf; p -= lr d.
#extension GL_GOOGLE_include_directive : require
#include "optimizer_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { OptimizerPush p; };
layout(std430, binding = 0) buffer Param { float param[]; };
layout(std430, binding = 1) readonly buffer Grad { float grad[]; };
layout(std430, binding = 2) buffer Momentum { float buf[]; };
layout(std430, binding = 3) readonly buffer Step { StepValues stepValues; };

void main() {
    if (stepValues.skip != 0u) return;  // a non-finite step: keep the last good weights
    const uint stride = gl_NumWorkGroups.x * 64u;
    const float lr = stepValues.learningRate;
    const bool first = stepValues.step <= 1u;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        float w = param[p.offParam + i];
        float d = grad[p.offGrad + i] + p.weightDecay * w;
        if (p.momentum != 0.0) {
            float b = first ? d : p.momentum * buf[p.offState0 + i] + (1.0 - p.dampening) * d;
            buf[p.offState0 + i] = b;
            d = p.nesterov != 0u ? d + p.momentum * b : b;
        }
        param[p.offParam + i] = w - lr * d;
    }
}

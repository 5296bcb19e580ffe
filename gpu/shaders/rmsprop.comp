#version 450
// torch.optim.RMSprop over a whole arena: d = g + wd p; sq = alpha sq + (1 - alpha) d²;
// centered: ga = alpha ga + (1 - alpha) d and avg = sqrt(sq - ga²) + eps, else sqrt(sq) + eps;
// momentum: buf = momentum buf + d / avg, p -= lr buf; else p -= lr d / avg.
#extension GL_GOOGLE_include_directive : require
#include "optimizer_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { OptimizerPush p; };
layout(std430, binding = 0) buffer Param { float param[]; };
layout(std430, binding = 1) readonly buffer Grad { float grad[]; };
layout(std430, binding = 2) buffer SquareAvg { float squareAvg[]; };
layout(std430, binding = 3) buffer Momentum { float buf[]; };   // bound when momentum > 0
layout(std430, binding = 4) buffer GradAvg { float gradAvg[]; };  // bound when centered
layout(std430, binding = 5) readonly buffer Step { StepValues stepValues; };

void main() {
    if (stepValues.skip != 0u) return;  // a non-finite step: keep the last good weights
    const uint stride = gl_NumWorkGroups.x * 64u;
    const float lr = stepValues.learningRate;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        float w = param[p.offParam + i];
        const float d = grad[p.offGrad + i] + p.weightDecay * w;
        const float sq = p.alpha * squareAvg[p.offState0 + i] + (1.0 - p.alpha) * d * d;
        squareAvg[p.offState0 + i] = sq;
        float avg;
        if (p.centered != 0u) {
            const float ga = p.alpha * gradAvg[p.offState2 + i] + (1.0 - p.alpha) * d;
            gradAvg[p.offState2 + i] = ga;
            avg = sqrt(sq - ga * ga) + p.eps;
        } else {
            avg = sqrt(sq) + p.eps;
        }
        if (p.momentum > 0.0) {
            const float b = p.momentum * buf[p.offState1 + i] + d / avg;
            buf[p.offState1 + i] = b;
            w -= lr * b;
        } else {
            w -= lr * d / avg;
        }
        param[p.offParam + i] = w;
    }
}

#version 450
// torch.optim.Adam / AdamW over a whole arena, with bias correction from the step count.
#extension GL_GOOGLE_include_directive : require
#include "optimizer_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { OptimizerPush p; };
layout(std430, binding = 0) buffer Param { float param[]; };
layout(std430, binding = 1) readonly buffer Grad { float grad[]; };
layout(std430, binding = 2) buffer Moment1 { float m1[]; };
layout(std430, binding = 3) buffer Moment2 { float m2[]; };
layout(std430, binding = 4) readonly buffer Step { StepValues stepValues; };

void main() {
    if (stepValues.skip != 0u) return;  // a non-finite step: keep the last good weights
    const uint stride = gl_NumWorkGroups.x * 64u;
    const float lr = stepValues.learningRate;
    const float t = float(stepValues.step);
    const float correction1 = 1.0 - pow(p.beta1, t);
    const float correction2 = 1.0 - pow(p.beta2, t);
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        float w = param[p.offParam + i];
        float g = grad[p.offGrad + i];
        if (p.decoupled != 0u) {
            w *= 1.0 - lr * p.weightDecay;
        } else {
            g += p.weightDecay * w;
        }
        float m = p.beta1 * m1[p.offState0 + i] + (1.0 - p.beta1) * g;
        float v = p.beta2 * m2[p.offState1 + i] + (1.0 - p.beta2) * g * g;
        m1[p.offState0 + i] = m;
        m2[p.offState1 + i] = v;
        param[p.offParam + i] = w - lr * (m / correction1) / (sqrt(v / correction2) + p.eps);
    }
}

#version 450
// Between the gradient norm and the optimizer of a recorded training step: publishes the loss to
// the host-visible step values and tells the optimizer to leave the weights alone when the loss or
// the norm is not finite, so a bad batch never costs the last good weights. The halt flag outlives
// the step: the steps already queued behind a bad one skip their updates too.
#extension GL_GOOGLE_include_directive : require
#include "optimizer_push.h"

layout(local_size_x = 1) in;
layout(push_constant) uniform Push { StepGuardPush p; };
layout(std430, binding = 0) readonly buffer Loss { float loss[]; };
layout(std430, binding = 1) buffer Step { StepValues stepValues; };
layout(std430, binding = 2) buffer Halt { uint halted; };

bool finite(float v) { return !isnan(v) && !isinf(v); }

void main() {
    const float l = loss[p.offLoss];
    stepValues.loss = l;
    const bool good = halted == 0u && finite(l) && finite(stepValues.normSquared);
    stepValues.skip = good ? 0u : 1u;
    if (!good) halted = 1u;
}

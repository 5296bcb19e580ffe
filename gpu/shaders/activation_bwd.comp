#version 450
// dx += dy * act'(x): backward adds into the input gradient (core/engine/op_context.h).
#extension GL_GOOGLE_include_directive : require
#include "eltwise_push.h"
#include "activation.glsl"

layout(local_size_x = 64) in;
// The push constant's activation again as a specialization constant (activation.cpp passes
// both), so the kernel compiles to that one function: lavapipe otherwise evaluates the whole
// switch of activate() per element.
layout(constant_id = 0) const uint kActivation = 0u;
layout(push_constant) uniform Push { EltwisePush p; };
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Dy { float dy[]; };
layout(std430, binding = 2) buffer Dx { float dx[]; };

void main() {
    const uint stride = gl_NumWorkGroups.x * 64u;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        dx[p.offDx + i] += dy[p.offY + i] * activateDerivative(kActivation, x[p.offX + i], p.param);
    }
}

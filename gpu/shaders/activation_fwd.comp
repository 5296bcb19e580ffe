#version 450
// y = act(x), elementwise; a grid-stride loop so any n fits the dispatch limits.
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
layout(std430, binding = 1) writeonly buffer Y { float y[]; };

void main() {
    const uint stride = gl_NumWorkGroups.x * 64u;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        y[p.offY + i] = activate(kActivation, x[p.offX + i], p.param);
    }
}

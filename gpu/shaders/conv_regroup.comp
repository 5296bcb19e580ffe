#version 450
// dst (d1, d0, inner) = src (d0, d1, inner) [+ bias[j0]] (conv_push.h): the conv GEMM works on
// channel-major (O, samples, P) blocks, tensors are sample-major (samples, O, P).
#extension GL_GOOGLE_include_directive : require
#include "conv_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { ConvRegroupPush p; };
layout(std430, binding = 0) readonly buffer Src { float src[]; };
layout(std430, binding = 1) writeonly buffer Dst { float dst[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };

void main() {
    const uint step = gl_NumWorkGroups.x * 64u;
    for (uint i = gl_GlobalInvocationID.x; i < p.count; i += step) {
        const uint q = i % p.inner;
        const uint t = i / p.inner;
        const uint j0 = t % p.d0;
        const uint j1 = t / p.d0;
        float v = src[p.offSrc + (j0 * p.d1 + j1) * p.inner + q];
        if (p.hasBias != 0u) v += bias[p.offBias + j0];
        dst[p.offDst + i] = v;
    }
}

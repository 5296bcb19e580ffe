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
    // Lines (y) are destination rows (j1, j0), so the divisions are made once per line.
    const uint lines = p.d0 * p.d1;
    const uint step = gl_NumWorkGroups.x * 64u;
    for (uint line = gl_WorkGroupID.y; line < lines; line += gl_NumWorkGroups.y) {
        const uint j1 = line / p.d0;
        const uint j0 = line - j1 * p.d0;
        const uint src0 = p.offSrc + (j0 * p.d1 + j1) * p.inner;
        const uint dst0 = p.offDst + line * p.inner;
        const float b = p.hasBias != 0u ? bias[p.offBias + j0] : 0.0;
        for (uint q = gl_GlobalInvocationID.x; q < p.inner; q += step) {
            dst[dst0 + q] = src[src0 + q] + b;
        }
    }
}

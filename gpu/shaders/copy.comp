#version 450
// dst = src or dst += src, elementwise; a grid-stride loop so any n fits the dispatch limits.
#extension GL_GOOGLE_include_directive : require
#include "copy_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { CopyPush p; };
layout(std430, binding = 0) readonly buffer Src { float src[]; };
layout(std430, binding = 1) buffer Dst { float dst[]; };

void main() {
    const uint stride = gl_NumWorkGroups.x * 64u;
    if (p.accumulate != 0u) {
        for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
            dst[p.offDst + i] += src[p.offSrc + i];
        }
    } else {
        for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
            dst[p.offDst + i] = src[p.offSrc + i];
        }
    }
}

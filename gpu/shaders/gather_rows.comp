#version 450
// dst[r, :] = source[indices[r], :] for the indices that fall in this dispatch's part of the
// source (a dataset larger than one binding is bound in parts, one dispatch each). Indices are
// exact floats, as every integer tensor is.
#extension GL_GOOGLE_include_directive : require
#include "gather_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { GatherPush p; };
layout(std430, binding = 0) readonly buffer Source { float source[]; };
layout(std430, binding = 1) readonly buffer Indices { float indices[]; };
layout(std430, binding = 2) buffer Dst { float dst[]; };

void main() {
    const uint stride = gl_NumWorkGroups.x * 64u;
    for (uint e = gl_GlobalInvocationID.x; e < p.n; e += stride) {
        const uint r = e / p.rowFloats, col = e % p.rowFloats;
        const float f = indices[p.offIdx + r];
        const bool valid = f >= 0.0 && f < float(p.rows);
        const uint row = valid ? uint(f) : 0u;
        if (valid && row >= p.rowBegin && row < p.rowEnd) {
            dst[p.offDst + e] = source[p.offSrc + (row - p.rowBegin) * p.rowFloats + col];
        } else if (!valid && p.zeroOthers != 0u) {
            dst[p.offDst + e] = 0.0;
        }
    }
}

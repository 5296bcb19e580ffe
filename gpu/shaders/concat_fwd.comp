#version 450
// y = torch.cat(xs, axis) in one dispatch: each output element finds the input whose piece of
// the output row it falls in.
#extension GL_GOOGLE_include_directive : require
#include "broadcast_push.h"
#define STRATA_SLOT_QUALIFIER readonly
#include "slots.glsl"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { ConcatPush p; };
layout(std430, binding = 8) writeonly buffer Y { float y[]; };

void main() {
    const uint stride = gl_NumWorkGroups.x * 64u;
    for (uint o = gl_GlobalInvocationID.x; o < p.n; o += stride) {
        const uint row = o / p.rowOut, col = o % p.rowOut;
        uint k = 0u;
        for (uint s = 1u; s < p.count; ++s) {
            if (col >= p.at[s]) k = s;
        }
        const uint len = (k + 1u < p.count ? p.at[k + 1u] : p.rowOut) - p.at[k];
        y[p.offY + o] = loadSlot(k, p.offX[k] + row * len + col - p.at[k]);
    }
}

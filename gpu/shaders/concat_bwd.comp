#version 450
// dx_k += its slice of dy, every input in one dispatch; each gradient element is written by the
// one invocation that owns its dy element.
#extension GL_GOOGLE_include_directive : require
#include "broadcast_push.h"
#define STRATA_SLOT_QUALIFIER
#define STRATA_SLOTS_WRITABLE
#include "slots.glsl"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { ConcatPush p; };
layout(std430, binding = 8) readonly buffer Dy { float dy[]; };

void main() {
    const uint stride = gl_NumWorkGroups.x * 64u;
    for (uint o = gl_GlobalInvocationID.x; o < p.n; o += stride) {
        const uint row = o / p.rowOut, col = o % p.rowOut;
        uint k = 0u;
        for (uint s = 1u; s < p.count; ++s) {
            if (col >= p.at[s]) k = s;
        }
        if (((p.present >> k) & 1u) == 0u) continue;
        const uint len = (k + 1u < p.count ? p.at[k + 1u] : p.rowOut) - p.at[k];
        const uint i = p.offX[k] + row * len + col - p.at[k];
        storeSlot(k, i, loadSlot(k, i) + dy[p.offY + o]);
    }
}

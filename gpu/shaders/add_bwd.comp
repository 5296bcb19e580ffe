#version 450
// dx_k += the sum of dy over the dimensions where input k was broadcast, for every slot in one
// dispatch. Each gradient element belongs to one invocation, which adds its dy values in
// increasing output order (the CPU's order): deterministic, no atomics.
#extension GL_GOOGLE_include_directive : require
#include "broadcast_push.h"
#define STRATA_SLOT_QUALIFIER
#define STRATA_SLOTS_WRITABLE
#include "slots.glsl"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { BroadcastAddPush p; };
layout(std430, binding = 8) readonly buffer Dy { float dy[]; };

bool broadcasts(uint k, uint d) {
    return ((p.broadcastBits[k >> 2u] >> ((k & 3u) * 8u + d)) & 1u) != 0u;
}

void main() {
    const uint stride = gl_NumWorkGroups.x * 64u;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        uint k = 0u;
        for (uint s = 1u; s < p.count; ++s) {
            if (i >= p.start[s]) k = s;
        }
        const uint j = i - p.start[k];
        // Element j's position in dy along the kept dimensions, and how many dy values fold
        // into it (the product of the broadcast sizes).
        uint base = 0u, outStride = 1u, folded = 1u, rest = j;
        for (int d = int(p.rank) - 1; d >= 0; --d) {
            const uint size = p.dims[d];
            if (broadcasts(k, uint(d))) {
                folded *= size;
            } else {
                base += (rest % size) * outStride;
                rest /= size;
            }
            outStride *= size;
        }
        float acc = loadSlot(k, p.offX[k] + j);
        for (uint r = 0u; r < folded; ++r) {
            uint off = base, rr = r, os = 1u;
            for (int d = int(p.rank) - 1; d >= 0; --d) {
                const uint size = p.dims[d];
                if (broadcasts(k, uint(d))) {
                    off += (rr % size) * os;
                    rr /= size;
                }
                os *= size;
            }
            acc += dy[p.offY + off];
        }
        storeSlot(k, p.offX[k] + j, acc);
    }
}

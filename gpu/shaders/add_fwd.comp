#version 450
// y = x0 + x1 + ... with PyTorch broadcasting, all inputs in one dispatch. The sum runs in slot
// order starting from 0, the CPU's order, so results agree bit for bit.
#extension GL_GOOGLE_include_directive : require
#include "broadcast_push.h"
#define STRATA_SLOT_QUALIFIER readonly
#include "slots.glsl"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { BroadcastAddPush p; };
layout(std430, binding = 8) writeonly buffer Y { float y[]; };

bool broadcasts(uint k, uint d) {
    return ((p.broadcastBits[k >> 2u] >> ((k & 3u) * 8u + d)) & 1u) != 0u;
}

void main() {
    const uint stride = gl_NumWorkGroups.x * 64u;
    for (uint o = gl_GlobalInvocationID.x; o < p.n; o += stride) {
        uint off[STRATA_MAX_SLOTS];
        uint inStride[STRATA_MAX_SLOTS];
        for (uint k = 0u; k < p.count; ++k) {
            off[k] = 0u;
            inStride[k] = 1u;
        }
        uint rest = o;
        for (int d = int(p.rank) - 1; d >= 0; --d) {
            const uint size = p.dims[d];
            const uint c = rest % size;
            rest /= size;
            for (uint k = 0u; k < p.count; ++k) {
                if (!broadcasts(k, uint(d))) {
                    off[k] += c * inStride[k];
                    inStride[k] *= size;
                }
            }
        }
        float s = 0.0;
        for (uint k = 0u; k < p.count; ++k) s += loadSlot(k, p.offX[k] + off[k]);
        y[p.offY + o] = s;
    }
}

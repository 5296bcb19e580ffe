#version 450
// First pass of the deterministic embedding gradient: chains the positions that select the same
// row in increasing order. Each position looks back for the previous position with its row; if
// there is one, it is that position's unique successor (links[q] = p), else it heads a chain.
// links: next position (P entries, prefilled with 0xffffffff = none), then head flags (P).
#extension GL_GOOGLE_include_directive : require
#include "rnn_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { EmbeddingPush p; };
layout(std430, binding = 0) readonly buffer Ids { float ids[]; };  // (P)
layout(std430, binding = 1) buffer Links { uint links[]; };        // (2P)

int rowOf(float id) {
    return (id >= 0.0 && id < float(p.rows)) ? int(id) : -1;
}

void main() {
    const uint stride = gl_NumWorkGroups.x * 64u;
    for (uint pos = gl_GlobalInvocationID.x; pos < p.positions; pos += stride) {
        const int row = rowOf(ids[p.offIds + pos]);
        uint head = row >= 0 ? 1u : 0u;
        if (row >= 0) {
            for (uint q = pos; q > 0u; --q) {
                if (rowOf(ids[p.offIds + q - 1u]) == row) {
                    links[p.offLinks + q - 1u] = pos;
                    head = 0u;
                    break;
                }
            }
        }
        links[p.offLinks + p.positions + pos] = head;
    }
}

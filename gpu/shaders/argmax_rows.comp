#version 450
// pred[r] = argmax of row r, the first index among equal maxima (std::max_element's choice);
// one workgroup per row, grid-stride over rows. NaN logits never win.
#extension GL_GOOGLE_include_directive : require
#include "argmax_push.h"

layout(local_size_x = 64) in;
// One row per invocation instead (metrics.cpp picks it on CPU devices, where a workgroup
// barrier costs more than walking a row alone).
layout(constant_id = 0) const bool kRowPerInvocation = false;
layout(push_constant) uniform Push { ArgmaxPush p; };
layout(std430, binding = 0) readonly buffer Logits { float logits[]; };
layout(std430, binding = 1) writeonly buffer Pred { float pred[]; };

shared float bestValue[64];
shared uint bestIndex[64];

// a beats b: larger, or equal and earlier.
bool beats(float va, uint ia, float vb, uint ib) { return va > vb || (va == vb && ia < ib); }

void main() {
    if (kRowPerInvocation) {
        const uint stride = gl_NumWorkGroups.x * 64u;
        for (uint row = gl_GlobalInvocationID.x; row < p.rows; row += stride) {
            const uint base = p.offLogits + row * p.classes;
            float v = uintBitsToFloat(0xff800000u);  // -inf
            uint idx = 0xffffffffu;
            for (uint k = 0u; k < p.classes; ++k) {
                const float c = logits[base + k];
                if (beats(c, k, v, idx)) {
                    v = c;
                    idx = k;
                }
            }
            pred[p.offPred + row] = idx == 0xffffffffu ? 0.0 : float(idx);
        }
        return;
    }
    const uint t = gl_LocalInvocationID.x;
    for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
        const uint base = p.offLogits + row * p.classes;
        float v = uintBitsToFloat(0xff800000u);  // -inf
        uint idx = 0xffffffffu;
        for (uint k = t; k < p.classes; k += 64u) {
            const float c = logits[base + k];
            if (beats(c, k, v, idx)) {
                v = c;
                idx = k;
            }
        }
        bestValue[t] = v;
        bestIndex[t] = idx;
        barrier();
        for (uint h = 32u; h > 0u; h >>= 1u) {
            if (t < h && beats(bestValue[t + h], bestIndex[t + h], bestValue[t], bestIndex[t])) {
                bestValue[t] = bestValue[t + h];
                bestIndex[t] = bestIndex[t + h];
            }
            barrier();
        }
        // A row of NaN only: class 0, the first element, as max_element returns.
        if (t == 0u) {
            pred[p.offPred + row] = bestIndex[0] == 0xffffffffu ? 0.0 : float(bestIndex[0]);
        }
        barrier();
    }
}

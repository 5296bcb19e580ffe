#version 450
// One time step of a recurrent layer direction, all three cells (specialization constant 0:
// 0 rnn, 1 lstm with gates i,f,g,o, 2 gru with gates r,z,n), recurrent product included: one
// dispatch per step instead of a GEMM h_{t-1} W_hhᵀ plus a gate kernel, because on lavapipe a
// dispatch costs about as much as the whole product at these sizes (DESIGN.md).
// An invocation owns hidden unit j of NB batch rows: it forms the G pre-activations of those
// rows from h_{t-1} and the G rows of W_hh for unit j, register-blocked like gemm_texel (each W
// fetch serves NB rows, each h fetch G gates), then turns them into h_t and saves what backward
// needs, exactly as core/layers/recurrent.cpp. W_hh and h_{t-1} are read through texel buffers,
// whole RGBA32F texels (4 values of k) when kVec (H a multiple of 4, aligned starts).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "rnn_push.h"
#include "activation.glsl"

#define NB 8u  // batch rows per invocation (rnn_recurrent.cpp: kRowsPerInvocation)

layout(local_size_x = 64) in;
layout(constant_id = 0) const uint kCell = 0u;
layout(constant_id = 1) const bool kVec = false;
layout(push_constant) uniform Push { RnnStepFwdPush p; };
layout(std430, binding = 0) readonly buffer Pre { float pre[]; };  // (N, T, G*H)
layout(binding = 1) uniform samplerBuffer whh;                     // (G*H, H)
layout(std430, binding = 2) readonly buffer Bhh { float bhh[]; };  // (G*H)
layout(binding = 3) uniform samplerBuffer hsPrev;                  // (N, H) h_{t-1}
layout(std430, binding = 4) writeonly buffer HsNext { float hsNext[]; };  // (N, H) h_t
layout(std430, binding = 5) writeonly buffer Seq { float seq[]; }; // (N, T, H*dirs)
layout(std430, binding = 6) writeonly buffer Gates { float gates[]; };  // (N, T, G*H)
layout(std430, binding = 7) buffer Extra { float extra[]; };       // (N, T, H)
layout(std430, binding = 8) writeonly buffer Y { float y[]; };

const uint G = kCell == 0u ? 1u : kCell == 1u ? 4u : 3u;

float hPrevAt(uint e) {
    return kVec ? texelFetch(hsPrev, int(e / 4u))[e % 4u] : texelFetch(hsPrev, int(e)).r;
}

void main() {
    const uint H = p.hidden;
    const uint j = gl_GlobalInvocationID.x % H;
    const uint n0 = gl_GlobalInvocationID.x / H * NB;
    if (n0 >= p.batch) return;
    const bool first = p.tPrev < 0;

    // acc[g][r]: row n0 + r of h_{t-1} W_hhᵀ, column g*H + j.
    float acc[4][NB];
    for (uint g = 0u; g < 4u; ++g) {
        for (uint r = 0u; r < NB; ++r) acc[g][r] = 0.0;
    }
    if (!first) {
        // Rows past the batch read the last row (valid memory) and store nothing.
        uint hRow[NB];
        for (uint r = 0u; r < NB; ++r) hRow[r] = p.offHsPrev + min(n0 + r, p.batch - 1u) * H;
        uint wRow[4];
        for (uint g = 0u; g < G; ++g) wRow[g] = p.offWhh + (g * H + j) * H;
        if (kVec) {
            for (uint k4 = 0u; k4 < H / 4u; ++k4) {
                vec4 w[4];
                for (uint g = 0u; g < G; ++g) w[g] = texelFetch(whh, int(wRow[g] / 4u + k4));
                for (uint r = 0u; r < NB; ++r) {
                    const vec4 h = texelFetch(hsPrev, int(hRow[r] / 4u + k4));
                    for (uint g = 0u; g < G; ++g) acc[g][r] += dot(w[g], h);
                }
            }
        } else {
            for (uint k = 0u; k < H; ++k) {
                float w[4];
                for (uint g = 0u; g < G; ++g) w[g] = texelFetch(whh, int(wRow[g] + k)).r;
                for (uint r = 0u; r < NB; ++r) {
                    const float h = texelFetch(hsPrev, int(hRow[r] + k)).r;
                    for (uint g = 0u; g < G; ++g) acc[g][r] = fma(w[g], h, acc[g][r]);
                }
            }
        }
    }
    float b[4];
    for (uint g = 0u; g < G; ++g) b[g] = p.hasBias != 0u ? bhh[p.offBhh + g * H + j] : 0.0;

    // Not unrolled: NB copies of the gate code make lavapipe compile for seconds.
    [[dont_unroll]] for (uint r = 0u; r < NB; ++r) {
        const uint n = n0 + r;
        if (n >= p.batch) break;
        const uint i = n * H + j;
        const uint row = n * p.steps + p.t;
        const uint pr = p.offPre + row * G * H;
        float h;
        if (kCell == 0u) {
            const float a = pre[pr + j] + acc[0][r] + b[0];
            h = p.relu != 0u ? max(a, 0.0) : strataTanh(a);
        } else if (kCell == 1u) {
            const float ig = strataSigmoid(pre[pr + j] + acc[0][r] + b[0]);
            const float fg = strataSigmoid(pre[pr + H + j] + acc[1][r] + b[1]);
            const float gg = strataTanh(pre[pr + 2u * H + j] + acc[2][r] + b[2]);
            const float og = strataSigmoid(pre[pr + 3u * H + j] + acc[3][r] + b[3]);
            const float cPrev =
                first ? 0.0 : extra[p.offExtra + (n * p.steps + uint(p.tPrev)) * H + j];
            const float cs = fg * cPrev + ig * gg;
            h = og * strataTanh(cs);
            const uint gr = p.offGates + row * 4u * H;
            gates[gr + j] = ig;
            gates[gr + H + j] = fg;
            gates[gr + 2u * H + j] = gg;
            gates[gr + 3u * H + j] = og;
            extra[p.offExtra + row * H + j] = cs;
        } else {
            const float hn = acc[2][r] + b[2];
            const float rg = strataSigmoid(pre[pr + j] + acc[0][r] + b[0]);
            const float zg = strataSigmoid(pre[pr + H + j] + acc[1][r] + b[1]);
            const float ng = strataTanh(pre[pr + 2u * H + j] + rg * hn);
            const float hp = first ? 0.0 : hPrevAt(p.offHsPrev + i);
            h = (1.0 - zg) * ng + zg * hp;
            const uint gr = p.offGates + row * 3u * H;
            gates[gr + j] = rg;
            gates[gr + H + j] = zg;
            gates[gr + 2u * H + j] = ng;
            extra[p.offExtra + row * H + j] = hn;
        }
        hsNext[p.offHsNext + i] = h;
        seq[p.offSeq + row * p.seqWidth + p.dirOffset + j] = h;
        if (p.outMode == 1u) {
            y[p.offY + row * p.seqWidth + p.dirOffset + j] = h;
        } else if (p.outMode == 2u) {
            y[p.offY + n * p.seqWidth + p.dirOffset + j] = h;
        }
    }
}

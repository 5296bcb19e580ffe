#version 450
// Backward of one time step (specialization constant 0: 0 rnn, 1 lstm, 2 gru), with the
// recurrent product of the later step inside: dLoss/dh_t = dq_{t+1} W_hh + (gru) the later
// step's direct part + dy_t, then the gate pre-activation gradients of step t. One dispatch per
// step instead of a gate kernel plus a GEMM (lavapipe pays ~60 µs a dispatch, DESIGN.md).
// An invocation owns 4 consecutive hidden units of NB batch rows, so each fetch of a row of
// W_hh (4 units) serves NB rows and each fetch of dq (4 gate columns) serves 4 units; W_hh and
// dq come through texel buffers, as whole RGBA32F texels when kVec (H a multiple of 4).
// The gate gradients are written batch-major (dW_ih, dx, the biases and, for rnn/lstm, dW_hh
// are one GEMM each over all steps). For rnn and lstm they are also d(W_hh h_{t-1} + b_hh), so
// the next step reads them back from dxp (rows T*G*H apart); gru's n gate differs by r, so gru
// writes that gradient apart, step-major, for the next step and for dW_hh and b_hh.
// Same formulas as the CPU kernel.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "rnn_push.h"
#include "activation.glsl"

#define NB 8u  // batch rows per invocation

layout(local_size_x = 64) in;
layout(constant_id = 0) const uint kCell = 0u;
layout(constant_id = 1) const bool kVec = false;
layout(push_constant) uniform Push { RnnStepBwdPush p; };
layout(binding = 0) uniform samplerBuffer whh;                      // (G*H, H)
layout(binding = 1) uniform samplerBuffer dqNext;  // the later step's dq, rows dqStride apart
layout(std430, binding = 2) readonly buffer DhNext { float dhNext[]; };  // (N, H) gru
layout(std430, binding = 3) writeonly buffer DhOut { float dhOut[]; };   // (N, H) gru
layout(std430, binding = 4) readonly buffer Dy { float dy[]; };
layout(std430, binding = 5) readonly buffer Seq { float seq[]; };   // (N, T, H*dirs)
layout(std430, binding = 6) readonly buffer Gates { float gates[]; };  // (N, T, G*H)
layout(std430, binding = 7) readonly buffer Extra { float extra[]; };  // (N, T, H)
layout(std430, binding = 8) writeonly buffer Dxp { float dxp[]; };  // (N, T, G*H)
layout(std430, binding = 9) writeonly buffer Dq { float dq[]; };    // gru: (N, G*H) step t
layout(std430, binding = 10) writeonly buffer HPrev { float hprev[]; };  // (N, H) | (N, T, H)
layout(std430, binding = 11) buffer Dc { float dc[]; };             // (N, H)

const uint G = kCell == 0u ? 1u : kCell == 1u ? 4u : 3u;

void main() {
    const uint H = p.hidden;
    const uint GH = G * H;
    const uint quads = (H + 3u) / 4u;
    const uint j0 = gl_GlobalInvocationID.x % quads * 4u;
    const uint n0 = gl_GlobalInvocationID.x / quads * NB;
    if (n0 >= p.batch) return;
    const bool hasNext = p.hasNext != 0u;

    // acc[u][r]: dLoss/dh_t through W_hh at row n0 + r, unit j0 + u.
    float acc[4][NB];
    for (uint u = 0u; u < 4u; ++u) {
        for (uint r = 0u; r < NB; ++r) acc[u][r] = 0.0;
    }
    if (hasNext) {
        // Rows and units past the edge read the last ones (valid memory) and store nothing.
        uint qRow[NB];
        for (uint r = 0u; r < NB; ++r) qRow[r] = p.offDqNext + min(n0 + r, p.batch - 1u) * p.dqStride;
        if (kVec) {
            for (uint q4 = 0u; q4 < GH / 4u; ++q4) {
                vec4 w[4];  // W_hh[4 q4 + e, j0 .. j0 + 3]
                for (uint e = 0u; e < 4u; ++e) {
                    w[e] = texelFetch(whh, int((p.offWhh + (4u * q4 + e) * H + j0) / 4u));
                }
                for (uint r = 0u; r < NB; ++r) {
                    const vec4 d = texelFetch(dqNext, int(qRow[r] / 4u + q4));
                    for (uint u = 0u; u < 4u; ++u) {
                        acc[u][r] += dot(d, vec4(w[0][u], w[1][u], w[2][u], w[3][u]));
                    }
                }
            }
        } else {
            uint col[4];
            for (uint u = 0u; u < 4u; ++u) col[u] = min(j0 + u, H - 1u);
            for (uint q = 0u; q < GH; ++q) {
                float w[4];
                for (uint u = 0u; u < 4u; ++u) {
                    w[u] = texelFetch(whh, int(p.offWhh + q * H + col[u])).r;
                }
                for (uint r = 0u; r < NB; ++r) {
                    const float d = texelFetch(dqNext, int(qRow[r] + q)).r;
                    for (uint u = 0u; u < 4u; ++u) acc[u][r] = fma(d, w[u], acc[u][r]);
                }
            }
        }
    }

    // Not unrolled: NB copies of the gate code make lavapipe compile for seconds.
    [[dont_unroll]] for (uint r = 0u; r < NB; ++r) {
        const uint n = n0 + r;
        if (n >= p.batch) break;
        // Not unrolled: NB copies of the gate code make lavapipe compile for seconds.
        [[dont_unroll]] for (uint u = 0u; u < 4u; ++u) {
            const uint j = j0 + u;
            if (j >= H) break;
            const uint i = n * H + j;
            const uint row = n * p.steps + p.t;
            const uint col = p.dirOffset + j;
            float g = acc[u][r];  // dLoss/dh_t
            if (kCell == 2u && hasNext) g += dhNext[p.offDhNext + i];
            if (p.dyMode == 0u) {
                g += dy[p.offDy + row * p.seqWidth + col];
            } else if (p.dyMode == 1u) {
                g += dy[p.offDy + n * p.seqWidth + col];
            }
            const bool first = p.tPrev < 0;
            const uint rowPrev = n * p.steps + uint(max(p.tPrev, 0));
            const float hPrev = first ? 0.0 : seq[p.offSeq + rowPrev * p.seqWidth + col];
            hprev[p.offHPrev + (p.dqInDxp != 0u ? row * H + j : i)] = hPrev;
            const uint xr = p.offDxp + row * GH;
            if (kCell == 0u) {
                const float h = seq[p.offSeq + row * p.seqWidth + col];
                const float a = p.relu != 0u ? (h > 0.0 ? g : 0.0) : g * (1.0 - h * h);
                dxp[xr + j] = a;
            } else if (kCell == 1u) {
                const uint gr = p.offGates + row * 4u * H;
                const float ig = gates[gr + j], fg = gates[gr + H + j];
                const float gg = gates[gr + 2u * H + j], og = gates[gr + 3u * H + j];
                const float cs = extra[p.offExtra + row * H + j];
                const float cPrev = first ? 0.0 : extra[p.offExtra + rowPrev * H + j];
                const float tc = strataTanh(cs);
                const float dcNext = hasNext ? dc[p.offDc + i] : 0.0;
                const float dcs = dcNext + g * og * (1.0 - tc * tc);
                dc[p.offDc + i] = dcs * fg;
                const float di = dcs * gg * ig * (1.0 - ig);
                const float df = dcs * cPrev * fg * (1.0 - fg);
                const float dg = dcs * ig * (1.0 - gg * gg);
                const float do_ = g * tc * og * (1.0 - og);
                dxp[xr + j] = di;
                dxp[xr + H + j] = df;
                dxp[xr + 2u * H + j] = dg;
                dxp[xr + 3u * H + j] = do_;
            } else {
                const uint gr = p.offGates + row * 3u * H;
                const float rg = gates[gr + j], zg = gates[gr + H + j];
                const float ng = gates[gr + 2u * H + j];
                const float hn = extra[p.offExtra + row * H + j];
                const float dn = g * (1.0 - zg) * (1.0 - ng * ng);
                const float dr = dn * hn * rg * (1.0 - rg);
                const float dz = g * (hPrev - ng) * zg * (1.0 - zg);
                dxp[xr + j] = dr;
                dxp[xr + H + j] = dz;
                dxp[xr + 2u * H + j] = dn;
                const uint qr = p.offDq + n * GH;
                dq[qr + j] = dr;
                dq[qr + H + j] = dz;
                dq[qr + 2u * H + j] = dn * rg;
                dhOut[p.offDhOut + i] = g * zg;
            }
        }
    }
}

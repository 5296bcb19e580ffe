#version 450
// Backward of one time step (specialization constant 0: 0 rnn, 1 lstm, 2 gru): one invocation
// per (n, j) turns dLoss/dh_t into the gate pre-activation gradients, written twice: batch-major
// for dW_ih, dx and b_ih (one GEMM each over all steps) and step-major for this step's
// dh_{t-1} += dq W_hh and, over all steps, dW_hh and b_hh. Same formulas as the CPU kernel.
#extension GL_GOOGLE_include_directive : require
#include "rnn_push.h"
#include "activation.glsl"

layout(local_size_x = 64) in;
layout(constant_id = 0) const uint kCell = 0u;
layout(push_constant) uniform Push { RnnStepBwdPush p; };
layout(std430, binding = 0) buffer Dh { float dh[]; };              // (T+1, N, H)
layout(std430, binding = 1) readonly buffer Dy { float dy[]; };
layout(std430, binding = 2) readonly buffer Seq { float seq[]; };   // (N, T, H*dirs)
layout(std430, binding = 3) readonly buffer Gates { float gates[]; };  // (N, T, G*H)
layout(std430, binding = 4) readonly buffer Extra { float extra[]; };  // (N, T, H)
layout(std430, binding = 5) writeonly buffer Dxp { float dxp[]; };  // (N, T, G*H)
layout(std430, binding = 6) writeonly buffer Dq { float dq[]; };    // (T, N, G*H)
layout(std430, binding = 7) writeonly buffer HPrev { float hprev[]; };  // (T, N, H)
layout(std430, binding = 8) buffer Dc { float dc[]; };              // (N, H)

void main() {
    const uint H = p.hidden;
    const uint G = kCell == 0u ? 1u : kCell == 1u ? 4u : 3u;
    const uint total = p.batch * H;
    const uint stride = gl_NumWorkGroups.x * 64u;
    for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
        const uint n = i / H, j = i % H;
        const uint row = n * p.steps + p.t;
        const uint col = p.dirOffset + j;
        float g = dh[p.offDhIn + i];  // dLoss/dh_t
        if (p.dyMode == 0u) {
            g += dy[p.offDy + row * p.seqWidth + col];
        } else if (p.dyMode == 1u) {
            g += dy[p.offDy + n * p.seqWidth + col];
        }
        const bool first = p.tPrev < 0;
        const uint rowPrev = n * p.steps + uint(max(p.tPrev, 0));
        const float hPrev = first ? 0.0 : seq[p.offSeq + rowPrev * p.seqWidth + col];
        hprev[p.offHPrev + i] = hPrev;
        const uint xr = p.offDxp + row * G * H;
        const uint qr = p.offDq + n * G * H;
        float direct = 0.0;  // gru: z * g reaches h_{t-1} without W_hh
        if (kCell == 0u) {
            const float h = seq[p.offSeq + row * p.seqWidth + col];
            const float a = p.relu != 0u ? (h > 0.0 ? g : 0.0) : g * (1.0 - h * h);
            dxp[xr + j] = a;
            dq[qr + j] = a;
        } else if (kCell == 1u) {
            const uint gr = p.offGates + row * 4u * H;
            const float ig = gates[gr + j], fg = gates[gr + H + j];
            const float gg = gates[gr + 2u * H + j], og = gates[gr + 3u * H + j];
            const float cs = extra[p.offExtra + row * H + j];
            const float cPrev = first ? 0.0 : extra[p.offExtra + rowPrev * H + j];
            const float tc = strataTanh(cs);
            const float dcs = dc[p.offDc + i] + g * og * (1.0 - tc * tc);
            dc[p.offDc + i] = dcs * fg;
            const float di = dcs * gg * ig * (1.0 - ig);
            const float df = dcs * cPrev * fg * (1.0 - fg);
            const float dg = dcs * ig * (1.0 - gg * gg);
            const float do_ = g * tc * og * (1.0 - og);
            dxp[xr + j] = di;
            dxp[xr + H + j] = df;
            dxp[xr + 2u * H + j] = dg;
            dxp[xr + 3u * H + j] = do_;
            dq[qr + j] = di;
            dq[qr + H + j] = df;
            dq[qr + 2u * H + j] = dg;
            dq[qr + 3u * H + j] = do_;
        } else {
            const uint gr = p.offGates + row * 3u * H;
            const float rg = gates[gr + j], zg = gates[gr + H + j], ng = gates[gr + 2u * H + j];
            const float hn = extra[p.offExtra + row * H + j];
            const float dn = g * (1.0 - zg) * (1.0 - ng * ng);
            const float dr = dn * hn * rg * (1.0 - rg);
            const float dz = g * (hPrev - ng) * zg * (1.0 - zg);
            dxp[xr + j] = dr;
            dxp[xr + H + j] = dz;
            dxp[xr + 2u * H + j] = dn;
            dq[qr + j] = dr;
            dq[qr + H + j] = dz;
            dq[qr + 2u * H + j] = dn * rg;
            direct = g * zg;
        }
        dh[p.offDhOut + i] = direct;
    }
}

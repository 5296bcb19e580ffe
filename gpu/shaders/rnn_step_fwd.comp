#version 450
// One time step of a recurrent layer direction, all three cells (specialization constant 0:
// 0 rnn, 1 lstm with gates i,f,g,o, 2 gru with gates r,z,n): one invocation per (n, j) turns the
// two projections into h_t and saves what backward needs, exactly as core/layers/recurrent.cpp.
#extension GL_GOOGLE_include_directive : require
#include "rnn_push.h"
#include "activation.glsl"

layout(local_size_x = 64) in;
layout(constant_id = 0) const uint kCell = 0u;
layout(push_constant) uniform Push { RnnStepFwdPush p; };
layout(std430, binding = 0) readonly buffer Pre { float pre[]; };  // (N, T, G*H)
layout(std430, binding = 1) readonly buffer Hh { float hh[]; };    // (N, G*H)
layout(std430, binding = 2) buffer Hs { float hs[]; };             // (T+1, N, H)
layout(std430, binding = 3) writeonly buffer Seq { float seq[]; }; // (N, T, H*dirs)
layout(std430, binding = 4) writeonly buffer Gates { float gates[]; };  // (N, T, G*H)
layout(std430, binding = 5) buffer Extra { float extra[]; };       // (N, T, H)
layout(std430, binding = 6) writeonly buffer Y { float y[]; };

void main() {
    const uint H = p.hidden;
    const uint G = kCell == 0u ? 1u : kCell == 1u ? 4u : 3u;
    const uint total = p.batch * H;
    const uint stride = gl_NumWorkGroups.x * 64u;
    for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
        const uint n = i / H, j = i % H;
        const uint row = n * p.steps + p.t;
        const uint pr = p.offPre + row * G * H;
        const uint qr = p.offHh + n * G * H;
        float h;
        if (kCell == 0u) {
            const float a = pre[pr + j] + hh[qr + j];
            h = p.relu != 0u ? max(a, 0.0) : strataTanh(a);
        } else if (kCell == 1u) {
            const float ig = strataSigmoid(pre[pr + j] + hh[qr + j]);
            const float fg = strataSigmoid(pre[pr + H + j] + hh[qr + H + j]);
            const float gg = strataTanh(pre[pr + 2u * H + j] + hh[qr + 2u * H + j]);
            const float og = strataSigmoid(pre[pr + 3u * H + j] + hh[qr + 3u * H + j]);
            const float cPrev =
                p.tPrev >= 0 ? extra[p.offExtra + (n * p.steps + uint(p.tPrev)) * H + j] : 0.0;
            const float cs = fg * cPrev + ig * gg;
            h = og * strataTanh(cs);
            const uint gr = p.offGates + row * 4u * H;
            gates[gr + j] = ig;
            gates[gr + H + j] = fg;
            gates[gr + 2u * H + j] = gg;
            gates[gr + 3u * H + j] = og;
            extra[p.offExtra + row * H + j] = cs;
        } else {
            const float hn = hh[qr + 2u * H + j];
            const float rg = strataSigmoid(pre[pr + j] + hh[qr + j]);
            const float zg = strataSigmoid(pre[pr + H + j] + hh[qr + H + j]);
            const float ng = strataTanh(pre[pr + 2u * H + j] + rg * hn);
            h = (1.0 - zg) * ng + zg * hs[p.offHsPrev + i];
            const uint gr = p.offGates + row * 3u * H;
            gates[gr + j] = rg;
            gates[gr + H + j] = zg;
            gates[gr + 2u * H + j] = ng;
            extra[p.offExtra + row * H + j] = hn;
        }
        hs[p.offHsNext + i] = h;
        seq[p.offSeq + row * p.seqWidth + p.dirOffset + j] = h;
        if (p.outMode == 1u) {
            y[p.offY + row * p.seqWidth + p.dirOffset + j] = h;
        } else if (p.outMode == 2u) {
            y[p.offY + n * p.seqWidth + p.dirOffset + j] = h;
        }
    }
}

#version 450
// GEMM for discrete and integrated GPUs: 64x64 tiles of C per workgroup staged through shared
// memory in steps of 16 along K; each of the 16x16 invocations accumulates a 4x4 block.
#extension GL_GOOGLE_include_directive : require
#include "gemm_push.h"
#include "activation.glsl"

layout(local_size_x = 16, local_size_y = 16) in;
layout(constant_id = 0) const bool kTransA = false;
layout(constant_id = 1) const bool kTransB = false;
// The epilogue's activation (also in the push constants), compiled in.
layout(constant_id = 2) const uint kActivation = 0u;

layout(push_constant) uniform Push { GemmPush p; };
layout(std430, binding = 0) readonly buffer MatA { float matA[]; };
layout(std430, binding = 1) readonly buffer MatB { float matB[]; };
layout(std430, binding = 2) buffer MatC { float matC[]; };
layout(std430, binding = 3) readonly buffer Bias { float bias[]; };

// [k][m] and [k][n]; the +1 column keeps transposed stores off a single bank.
shared float tileA[16][65];
shared float tileB[16][65];

float loadA(uint base, uint m, uint k) {
    return matA[base + (kTransA ? k * p.lda + m : m * p.lda + k)];
}
float loadB(uint base, uint k, uint n) {
    return matB[base + (kTransB ? n * p.ldb + k : k * p.ldb + n)];
}

void main() {
    const uint tx = gl_LocalInvocationID.x;
    const uint ty = gl_LocalInvocationID.y;
    const uint tid = ty * 16u + tx;
    const uint rowBase = gl_WorkGroupID.y * 64u;
    const uint colBase = gl_WorkGroupID.x * 64u;
    const uint batch = gl_WorkGroupID.z;
    const uint baseA = p.offA + batch * p.strideA;
    const uint baseB = p.offB + batch * p.strideB;

    float acc[4][4];
    for (uint i = 0u; i < 4u; ++i) {
        for (uint j = 0u; j < 4u; ++j) acc[i][j] = 0.0;
    }
    for (uint k0 = 0u; k0 < p.K; k0 += 16u) {
        for (uint l = 0u; l < 4u; ++l) {
            uint e = tid + l * 256u;  // 0..1023: each tile holds 64 x 16 values
            uint m = kTransA ? (e & 63u) : (e >> 4u);
            uint ka = kTransA ? (e >> 6u) : (e & 15u);
            uint gm = rowBase + m;
            uint gka = k0 + ka;
            tileA[ka][m] = (gm < p.M && gka < p.K) ? loadA(baseA, gm, gka) : 0.0;
            uint n = kTransB ? (e >> 4u) : (e & 63u);
            uint kb = kTransB ? (e & 15u) : (e >> 6u);
            uint gn = colBase + n;
            uint gkb = k0 + kb;
            tileB[kb][n] = (gn < p.N && gkb < p.K) ? loadB(baseB, gkb, gn) : 0.0;
        }
        barrier();
        for (uint kk = 0u; kk < 16u; ++kk) {
            float a[4];
            float b[4];
            for (uint i = 0u; i < 4u; ++i) {
                a[i] = tileA[kk][ty + 16u * i];
                b[i] = tileB[kk][tx + 16u * i];
            }
            for (uint i = 0u; i < 4u; ++i) {
                for (uint j = 0u; j < 4u; ++j) acc[i][j] = fma(a[i], b[j], acc[i][j]);
            }
        }
        barrier();
    }

    const uint baseC = p.offC + batch * p.strideC;
    for (uint i = 0u; i < 4u; ++i) {
        uint r = rowBase + ty + 16u * i;
        if (r >= p.M) continue;
        for (uint j = 0u; j < 4u; ++j) {
            uint c = colBase + tx + 16u * j;
            if (c >= p.N) continue;
            uint at = baseC + r * p.ldc + c;
            float v = p.alpha * acc[i][j];
            if (p.beta != 0.0) v += p.beta * matC[at];
            if (p.hasBias == kGemmBiasColumn) v += bias[p.offBias + c];
            if (p.hasBias == kGemmBiasRow) v += bias[p.offBias + batch * p.strideBias + r];
            matC[at] = activate(kActivation, v, p.actParam);
        }
    }
}

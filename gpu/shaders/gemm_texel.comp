#version 450
// GEMM for CPU-type Vulkan devices (lavapipe): each invocation keeps a TM x TN block of C in
// registers and reads A and B through texel buffers, which lavapipe turns into plain loads; no
// shared memory, which lavapipe emulates slowly (DESIGN.md). lavapipe runs 8 invocations in the
// lanes of one SIMD register and has no hardware gather, so every fetch costs a load per lane:
// the kernel walks K in steps of 4 and fetches whole RGBA32F texels (4 floats along the operand's
// contiguous dimension) when the operand allows it (kVecA/kVecB: 16-byte aligned start, leading
// dimension and batch stride multiples of 4), which cuts the loads per multiply-add by 4.
// Otherwise that operand is bound as R32F and fetched one float at a time.
#extension GL_GOOGLE_include_directive : require
#include "gemm_push.h"
#include "activation.glsl"

#define TM 8u   // rows of C per invocation
#define TN 8u   // columns of C per invocation (gemm.cpp: 8 * TN x 8 * TM per workgroup)

layout(local_size_x = 8, local_size_y = 8) in;
layout(constant_id = 0) const bool kTransA = false;
layout(constant_id = 1) const bool kTransB = false;
layout(constant_id = 2) const bool kVecA = false;
layout(constant_id = 3) const bool kVecB = false;
// The epilogue's activation (also in the push constants): as a specialization constant the
// epilogue compiles to that one function instead of activate()'s whole switch per output.
layout(constant_id = 4) const uint kActivation = 0u;

layout(push_constant) uniform Push { GemmPush p; };
layout(binding = 0) uniform samplerBuffer matA;
layout(binding = 1) uniform samplerBuffer matB;
layout(std430, binding = 2) buffer MatC { float matC[]; };
layout(std430, binding = 3) readonly buffer Bias { float bias[]; };

// A is walked along K when not transposed (rows of A are contiguous in K) and along M when
// transposed; B along N when not transposed and along K when transposed. "av" holds 4 k-steps of
// the TM rows, "bv" 4 k-steps of the TN columns, in whichever arrangement the contiguous
// dimension gives; aAt/bAt pick one value with indices that unrolling makes constant.
float aAt(vec4 av[TM], uint i, uint kk) {
    return kTransA ? av[kk * (TM / 4u) + i / 4u][i % 4u] : av[i][kk];
}
float bAt(vec4 bv[TN], uint kk, uint j) {
    return kTransB ? bv[j][kk] : bv[kk * (TN / 4u) + j / 4u][j % 4u];
}

void main() {
    // The 8 lanes of a SIMD register are 8 neighbours along x. Their columns interleave in
    // groups of 4 (lane x owns columns colBase + 32 h + 4 x + 0..3), so that one fetch of the 8
    // lanes reads 32 consecutive floats of a row of B, and so do their stores to C.
    const uint row0 = gl_GlobalInvocationID.y * TM;
    const uint col0 = gl_WorkGroupID.x * (8u * TN) + 4u * gl_LocalInvocationID.x;
    if (row0 >= p.M || col0 >= p.N) return;
    const uint batch = gl_WorkGroupID.z;
    const int baseA = int(p.offA + batch * p.strideA);
    const int baseB = int(p.offB + batch * p.strideB);
    const int lda = int(p.lda);
    const int ldb = int(p.ldb);

    // Edge invocations read clamped rows/columns (always valid memory) and store only the real
    // outputs, so no bounds test sits in the inner loop. Element offsets of each row of op(A)
    // and each column of op(B) at k = 0; texel offsets for fetches along M (transposed A) or N
    // (B), clamped to the row's last texel so that they never leave the operand.
    int offA[TM];
    int offB[TN];
    int texA[TM / 4u];
    int texB[TN / 4u];
    for (uint i = 0u; i < TM; ++i) {
        int r = int(min(row0 + i, p.M - 1u));
        offA[i] = baseA + (kTransA ? r : r * lda);
    }
    for (uint j = 0u; j < TN; ++j) {
        int c = int(min(col0 + 32u * (j / 4u) + j % 4u, p.N - 1u));
        offB[j] = baseB + (kTransB ? c * ldb : c);
    }
    for (uint h = 0u; h < TM / 4u; ++h) texA[h] = (baseA + int(min(row0 + 4u * h, p.M - 4u))) / 4;
    for (uint h = 0u; h < TN / 4u; ++h) texB[h] = (baseB + int(min(col0 + 32u * h, p.N - 4u))) / 4;
    const int stepA = kTransA ? lda : 1;
    const int stepB = kTransB ? 1 : ldb;

    float acc[TM][TN];
    for (uint i = 0u; i < TM; ++i) {
        for (uint j = 0u; j < TN; ++j) acc[i][j] = 0.0;
    }
    const int kMain = int(p.K) & ~3;
    for (int k0 = 0; k0 < kMain; k0 += 4) {
        vec4 av[TM];
        vec4 bv[TN];
        if (kVecA) {
            if (kTransA) {
                for (uint kk = 0u; kk < 4u; ++kk) {
                    for (uint h = 0u; h < TM / 4u; ++h) {
                        av[kk * (TM / 4u) + h] =
                            texelFetch(matA, texA[h] + (k0 + int(kk)) * (lda / 4));
                    }
                }
            } else {
                for (uint i = 0u; i < TM; ++i) av[i] = texelFetch(matA, (offA[i] + k0) / 4);
            }
        } else {
            for (uint i = 0u; i < TM; ++i) {
                for (uint kk = 0u; kk < 4u; ++kk) {
                    float v = texelFetch(matA, offA[i] + (k0 + int(kk)) * stepA).r;
                    if (kTransA) {
                        av[kk * (TM / 4u) + i / 4u][i % 4u] = v;
                    } else {
                        av[i][kk] = v;
                    }
                }
            }
        }
        if (kVecB) {
            if (kTransB) {
                for (uint j = 0u; j < TN; ++j) bv[j] = texelFetch(matB, (offB[j] + k0) / 4);
            } else {
                for (uint kk = 0u; kk < 4u; ++kk) {
                    for (uint h = 0u; h < TN / 4u; ++h) {
                        bv[kk * (TN / 4u) + h] =
                            texelFetch(matB, texB[h] + (k0 + int(kk)) * (ldb / 4));
                    }
                }
            }
        } else {
            for (uint j = 0u; j < TN; ++j) {
                for (uint kk = 0u; kk < 4u; ++kk) {
                    float v = texelFetch(matB, offB[j] + (k0 + int(kk)) * stepB).r;
                    if (kTransB) {
                        bv[j][kk] = v;
                    } else {
                        bv[kk * (TN / 4u) + j / 4u][j % 4u] = v;
                    }
                }
            }
        }
        // Four multiply-adds in a row on one accumulator: lavapipe keeps the accumulators in
        // memory, so this loads and stores each once per four steps of K.
        for (uint i = 0u; i < TM; ++i) {
            for (uint j = 0u; j < TN; ++j) {
                float s = acc[i][j];
                for (uint kk = 0u; kk < 4u; ++kk) s = fma(aAt(av, i, kk), bAt(bv, kk, j), s);
                acc[i][j] = s;
            }
        }
    }
    // The last K % 4 steps. A vector-fetched operand walked along K has K % 4 == 0, so here an
    // operand is either scalar or vector-fetched along M / N.
    for (int k = kMain; k < int(p.K); ++k) {
        float a[TM];
        float b[TN];
        if (kVecA && kTransA) {
            for (uint h = 0u; h < TM / 4u; ++h) {
                vec4 t = texelFetch(matA, texA[h] + k * (lda / 4));
                for (uint e = 0u; e < 4u; ++e) a[4u * h + e] = t[e];
            }
        } else {
            for (uint i = 0u; i < TM; ++i) a[i] = texelFetch(matA, offA[i] + k * stepA).r;
        }
        if (kVecB && !kTransB) {
            for (uint h = 0u; h < TN / 4u; ++h) {
                vec4 t = texelFetch(matB, texB[h] + k * (ldb / 4));
                for (uint e = 0u; e < 4u; ++e) b[4u * h + e] = t[e];
            }
        } else {
            for (uint j = 0u; j < TN; ++j) b[j] = texelFetch(matB, offB[j] + k * stepB).r;
        }
        for (uint i = 0u; i < TM; ++i) {
            for (uint j = 0u; j < TN; ++j) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
    }

    const uint baseC = p.offC + batch * p.strideC;
    for (uint i = 0u; i < TM; ++i) {
        uint r = row0 + i;
        if (r >= p.M) break;
        for (uint j = 0u; j < TN; ++j) {
            uint c = col0 + 32u * (j / 4u) + j % 4u;
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

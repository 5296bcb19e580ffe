#version 450
// GEMM for CPU-type Vulkan devices (lavapipe): each invocation keeps an 8x8 block of C in
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

layout(local_size_x = 8, local_size_y = 8) in;
layout(constant_id = 0) const bool kTransA = false;
layout(constant_id = 1) const bool kTransB = false;
layout(constant_id = 2) const bool kVecA = false;
layout(constant_id = 3) const bool kVecB = false;

layout(push_constant) uniform Push { GemmPush p; };
layout(binding = 0) uniform samplerBuffer matA;
layout(binding = 1) uniform samplerBuffer matB;
layout(std430, binding = 2) buffer MatC { float matC[]; };
layout(std430, binding = 3) readonly buffer Bias { float bias[]; };

// A is walked along K when not transposed (rows of A are contiguous in K) and along M when
// transposed; B along N when not transposed and along K when transposed. "av" holds 4 k-steps of
// the 8 rows, "bv" 4 k-steps of the 8 columns, in whichever arrangement the contiguous dimension
// gives; aAt/bAt pick one value with indices that unrolling makes constant.
float aAt(vec4 av[8], uint i, uint kk) { return kTransA ? av[2u * kk + i / 4u][i % 4u] : av[i][kk]; }
float bAt(vec4 bv[8], uint kk, uint j) { return kTransB ? bv[j][kk] : bv[2u * kk + j / 4u][j % 4u]; }

void main() {
    // Rows row0..row0+7 and columns col0..col0+7 of C; the 8 lanes of a SIMD register are 8
    // neighbours along x, so together they fetch 64 consecutive floats of a row of B.
    const uint row0 = gl_GlobalInvocationID.y * 8u;
    const uint col0 = gl_GlobalInvocationID.x * 8u;
    if (row0 >= p.M || col0 >= p.N) return;
    const uint batch = gl_WorkGroupID.z;
    const int baseA = int(p.offA + batch * p.strideA);
    const int baseB = int(p.offB + batch * p.strideB);
    const int lda = int(p.lda);
    const int ldb = int(p.ldb);

    // Edge invocations read clamped rows/columns (always valid memory) and store only the real
    // outputs, so no bounds test sits in the inner loop. Element offsets of each row of op(A)
    // and each column of op(B) at k = 0, and texel offsets for the vector fetches.
    int offA[8];
    int offB[8];
    for (uint i = 0u; i < 8u; ++i) {
        int r = int(min(row0 + i, p.M - 1u));
        offA[i] = baseA + (kTransA ? r : r * lda);
        int c = int(min(col0 + i, p.N - 1u));
        offB[i] = baseB + (kTransB ? c * ldb : c);
    }
    // Vector fetches along M (transposed A) or N (B): two texels, the second clamped to the last
    // texel of the row so that it never leaves the operand.
    const int texA0 = (baseA + int(row0)) / 4;
    const int texA1 = (baseA + int(min(row0 + 4u, p.M - 4u))) / 4;
    const int texB0 = (baseB + int(col0)) / 4;
    const int texB1 = (baseB + int(min(col0 + 4u, p.N - 4u))) / 4;
    const int stepA = kTransA ? lda : 1;
    const int stepB = kTransB ? 1 : ldb;

    float acc[8][8];
    for (uint i = 0u; i < 8u; ++i) {
        for (uint j = 0u; j < 8u; ++j) acc[i][j] = 0.0;
    }
    const int kMain = int(p.K) & ~3;
    for (int k0 = 0; k0 < kMain; k0 += 4) {
        vec4 av[8];
        vec4 bv[8];
        if (kVecA) {
            if (kTransA) {
                for (uint kk = 0u; kk < 4u; ++kk) {
                    av[2u * kk] = texelFetch(matA, texA0 + (k0 + int(kk)) * (lda / 4));
                    av[2u * kk + 1u] = texelFetch(matA, texA1 + (k0 + int(kk)) * (lda / 4));
                }
            } else {
                for (uint i = 0u; i < 8u; ++i) av[i] = texelFetch(matA, (offA[i] + k0) / 4);
            }
        } else {
            for (uint i = 0u; i < 8u; ++i) {
                for (uint kk = 0u; kk < 4u; ++kk) {
                    float v = texelFetch(matA, offA[i] + (k0 + int(kk)) * stepA).r;
                    if (kTransA) {
                        av[2u * kk + i / 4u][i % 4u] = v;
                    } else {
                        av[i][kk] = v;
                    }
                }
            }
        }
        if (kVecB) {
            if (kTransB) {
                for (uint j = 0u; j < 8u; ++j) bv[j] = texelFetch(matB, (offB[j] + k0) / 4);
            } else {
                for (uint kk = 0u; kk < 4u; ++kk) {
                    bv[2u * kk] = texelFetch(matB, texB0 + (k0 + int(kk)) * (ldb / 4));
                    bv[2u * kk + 1u] = texelFetch(matB, texB1 + (k0 + int(kk)) * (ldb / 4));
                }
            }
        } else {
            for (uint j = 0u; j < 8u; ++j) {
                for (uint kk = 0u; kk < 4u; ++kk) {
                    float v = texelFetch(matB, offB[j] + (k0 + int(kk)) * stepB).r;
                    if (kTransB) {
                        bv[j][kk] = v;
                    } else {
                        bv[2u * kk + j / 4u][j % 4u] = v;
                    }
                }
            }
        }
        for (uint kk = 0u; kk < 4u; ++kk) {
            for (uint i = 0u; i < 8u; ++i) {
                for (uint j = 0u; j < 8u; ++j) {
                    acc[i][j] = fma(aAt(av, i, kk), bAt(bv, kk, j), acc[i][j]);
                }
            }
        }
    }
    // The last K % 4 steps. A vector-fetched operand walked along K has K % 4 == 0, so here an
    // operand is either scalar or vector-fetched along M / N.
    for (int k = kMain; k < int(p.K); ++k) {
        float a[8];
        float b[8];
        if (kVecA && kTransA) {
            vec4 lo = texelFetch(matA, texA0 + k * (lda / 4));
            vec4 hi = texelFetch(matA, texA1 + k * (lda / 4));
            for (uint i = 0u; i < 4u; ++i) {
                a[i] = lo[i];
                a[i + 4u] = hi[i];
            }
        } else {
            for (uint i = 0u; i < 8u; ++i) a[i] = texelFetch(matA, offA[i] + k * stepA).r;
        }
        if (kVecB && !kTransB) {
            vec4 lo = texelFetch(matB, texB0 + k * (ldb / 4));
            vec4 hi = texelFetch(matB, texB1 + k * (ldb / 4));
            for (uint j = 0u; j < 4u; ++j) {
                b[j] = lo[j];
                b[j + 4u] = hi[j];
            }
        } else {
            for (uint j = 0u; j < 8u; ++j) b[j] = texelFetch(matB, offB[j] + k * stepB).r;
        }
        for (uint i = 0u; i < 8u; ++i) {
            for (uint j = 0u; j < 8u; ++j) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
    }

    const uint baseC = p.offC + batch * p.strideC;
    for (uint i = 0u; i < 8u; ++i) {
        uint r = row0 + i;
        if (r >= p.M) break;
        for (uint j = 0u; j < 8u; ++j) {
            uint c = col0 + j;
            if (c >= p.N) break;
            uint at = baseC + r * p.ldc + c;
            float v = p.alpha * acc[i][j];
            if (p.beta != 0.0) v += p.beta * matC[at];
            if (p.hasBias == kGemmBiasColumn) v += bias[p.offBias + c];
            if (p.hasBias == kGemmBiasRow) v += bias[p.offBias + batch * p.strideBias + r];
            matC[at] = activate(p.activation, v, p.actParam);
        }
    }
}

#version 450
// GEMM for CPU-type Vulkan devices (lavapipe): each invocation keeps an 8x8 block of C in
// registers and reads A and B through texel buffers, which lavapipe turns into plain loads that
// vectorise well; no shared memory, which lavapipe emulates slowly (DESIGN.md, measured ~40
// GFLOP/s on 2 cores against ~3x less through storage buffers).
#extension GL_GOOGLE_include_directive : require
#include "gemm_push.h"
#include "activation.glsl"

layout(local_size_x = 8, local_size_y = 8) in;
layout(constant_id = 0) const bool kTransA = false;
layout(constant_id = 1) const bool kTransB = false;

layout(push_constant) uniform Push { GemmPush p; };
layout(binding = 0) uniform samplerBuffer matA;
layout(binding = 1) uniform samplerBuffer matB;
layout(std430, binding = 2) buffer MatC { float matC[]; };
layout(std430, binding = 3) readonly buffer Bias { float bias[]; };

void main() {
    // Rows: 8 consecutive per invocation. Columns: interleaved with the neighbours along x
    // (column col0 + 8 j), so the 8 SIMD lanes lavapipe runs together load 8 consecutive floats
    // of a row of B and store 8 consecutive floats of C.
    const uint row0 = gl_GlobalInvocationID.y * 8u;
    const uint col0 = gl_WorkGroupID.x * 64u + gl_LocalInvocationID.x;
    if (row0 >= p.M || col0 >= p.N) return;
    const uint batch = gl_WorkGroupID.z;
    const int baseA = int(p.offA + batch * p.strideA);
    const int baseB = int(p.offB + batch * p.strideB);

    // Edge invocations read clamped rows/columns (always valid memory) and store only the real
    // outputs, so no bounds test sits in the inner loop.
    int offA[8];
    int offB[8];
    for (uint i = 0u; i < 8u; ++i) {
        int r = int(min(row0 + i, p.M - 1u));
        offA[i] = baseA + (kTransA ? r : r * int(p.lda));
        int c = int(min(col0 + 8u * i, p.N - 1u));
        offB[i] = baseB + (kTransB ? c * int(p.ldb) : c);
    }
    const int stepA = kTransA ? int(p.lda) : 1;
    const int stepB = kTransB ? 1 : int(p.ldb);

    float acc[8][8];
    for (uint i = 0u; i < 8u; ++i) {
        for (uint j = 0u; j < 8u; ++j) acc[i][j] = 0.0;
    }
    for (int k = 0; k < int(p.K); ++k) {
        float a[8];
        float b[8];
        for (uint i = 0u; i < 8u; ++i) {
            a[i] = texelFetch(matA, offA[i] + k * stepA).r;
            b[i] = texelFetch(matB, offB[i] + k * stepB).r;
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
            uint c = col0 + 8u * j;
            if (c >= p.N) break;
            uint at = baseC + r * p.ldc + c;
            float v = p.alpha * acc[i][j];
            if (p.beta != 0.0) v += p.beta * matC[at];
            if (p.hasBias != 0u) v += bias[p.offBias + c];
            matC[at] = activate(p.activation, v, p.actParam);
        }
    }
}

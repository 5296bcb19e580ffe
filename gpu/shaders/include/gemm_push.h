// C = act(alpha * op(A) * op(B) + beta * C + bias), row-major, batched with element strides.
#ifndef STRATA_GEMM_PUSH_H
#define STRATA_GEMM_PUSH_H
#include "push_shim.h"

STRATA_STRUCT_BEGIN(GemmPush)
    uint M;
    uint N;
    uint K;
    uint lda;  // leading dimensions of A, B, C as stored (elements)
    uint ldb;
    uint ldc;
    uint offA;  // element offsets of each operand inside its binding
    uint offB;
    uint offC;
    uint offBias;
    uint strideA;  // elements between consecutive batch entries (gl_WorkGroupID.z)
    uint strideB;
    uint strideC;
    uint hasBias;     // kGemmBias*: none, bias[n] added to every row, bias[m] to every column
    uint activation;  // kAct* from activation.glsl
    float actParam;   // leaky_relu's negative slope
    float alpha;
    float beta;  // 0 overwrites C without reading it; 1 accumulates (weight gradients)
    uint strideBias;  // elements between the row biases of consecutive batch entries
STRATA_STRUCT_END(GemmPush, 76)

#define kGemmBiasNone 0u
#define kGemmBiasColumn 1u
#define kGemmBiasRow 2u

#endif

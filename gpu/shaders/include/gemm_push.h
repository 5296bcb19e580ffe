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
    uint hasBias;     // bias[n] added to every row
    uint activation;  // kAct* from activation.glsl
    float actParam;   // leaky_relu's negative slope
    float alpha;
    float beta;  // 0 overwrites C without reading it; 1 accumulates (weight gradients)
STRATA_STRUCT_END(GemmPush, 72)

#endif

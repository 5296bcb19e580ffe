// Softmax over one dimension of a tensor viewed as (outer, len, inner), forward and backward.
// inner == 1 (the last dimension): softmax_fwd/bwd, one workgroup per row. inner > 1:
// softmax_strided_fwd/bwd, one invocation per (outer, inner) column.
#ifndef STRATA_SOFTMAX_PUSH_H
#define STRATA_SOFTMAX_PUSH_H
#include "push_shim.h"

STRATA_STRUCT_BEGIN(SoftmaxPush)
    uint rows;   // outer * inner: the number of independent softmaxes
    uint cols;   // len: the softmax dimension
    uint offX;   // forward: x; backward: the saved output y
    uint offY;   // forward: y; backward: dy
    uint offDx;  // backward: dx (accumulated into)
    uint inner;  // distance between consecutive elements of one softmax
STRATA_STRUCT_END(SoftmaxPush, 24)

#endif

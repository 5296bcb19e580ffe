// One workgroup sums a short list of partial results into a scalar.
#ifndef STRATA_REDUCE_PUSH_H
#define STRATA_REDUCE_PUSH_H
#include "push_shim.h"

STRATA_STRUCT_BEGIN(ReducePush)
    uint n;       // values to sum
    uint offA;    // element offsets inside the one input binding
    uint offB;    // ratio only: the denominators
    uint offOut;
    uint ratio;   // 0: out = scale * sum(a); 1: out = sum(a) / sum(b), 0 when sum(b) == 0
    float scale;
STRATA_STRUCT_END(ReducePush, 24)

#endif

// Softmax over the last dimension of a (rows, cols) matrix, forward and backward.
#ifndef STRATA_SOFTMAX_PUSH_H
#define STRATA_SOFTMAX_PUSH_H
#include "push_shim.h"

STRATA_STRUCT_BEGIN(SoftmaxPush)
    uint rows;
    uint cols;
    uint offX;   // forward: x; backward: the saved output y
    uint offY;   // forward: y; backward: dy
    uint offDx;  // backward: dx (accumulated into)
STRATA_STRUCT_END(SoftmaxPush, 20)

#endif

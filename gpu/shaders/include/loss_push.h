// Losses: cross_entropy (per-row, over (rows, classes) logits), mse and bce_with_logits
// (elementwise over n values). Forward kernels write partial sums that reduce_sum.comp turns
// into the scalar loss; backward kernels read the scalar's gradient from device memory.
#ifndef STRATA_LOSS_PUSH_H
#define STRATA_LOSS_PUSH_H
#include "push_shim.h"

STRATA_STRUCT_BEGIN(CrossEntropyPush)
    uint rows;
    uint classes;
    int ignoreIndex;
    float smoothing;  // label_smoothing
    uint phase;       // backward: 0 = scale from the counted targets, 1 = gradient rows
    uint offX;        // logits (rows, classes)
    uint offT;        // class ids (rows), exact floats
    uint offPartial;  // forward: (2, rows) loss per row, then 1 per counted row
    uint offGrad;     // backward: the loss's gradient (1 float)
    uint offScale;    // backward: gradient / counted (1 float of scratch)
    uint offDx;       // backward: (rows, classes), accumulated into
    uint countAt;     // forward: from a row's loss to its count (the whole loss's rows)
STRATA_STRUCT_END(CrossEntropyPush, 48)

STRATA_STRUCT_BEGIN(PairLossPush)
    uint n;           // values in this dispatch
    uint total;       // backward: values of the whole loss (the mean's divisor)
    uint offX;
    uint offT;
    uint offPartial;  // forward: one partial sum per workgroup
    uint offGrad;     // backward: the loss's gradient (1 float)
    uint offDx;       // backward: accumulated into, when hasDx
    uint offDt;       // backward: accumulated into, when hasDt
    uint hasDx;
    uint hasDt;
STRATA_STRUCT_END(PairLossPush, 40)

#endif

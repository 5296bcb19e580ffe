// Layer normalisation over rows of length d (nn.LayerNorm over the last dim), forward and
// backward. One invocation per row (and, in backward, per column for dgamma/dbeta).
#ifndef STRATA_LAYER_NORM_PUSH_H
#define STRATA_LAYER_NORM_PUSH_H
#include "push_shim.h"

STRATA_STRUCT_BEGIN(LayerNormPush)
    uint rows;
    uint d;
    uint offX;      // the forward's input (rows, d)
    uint offY;      // forward: output y (rows, d); backward: incoming gradient dy (rows, d)
    uint offGamma;  // (d) when affine
    uint offBeta;   // forward: (d) when affine
    uint offMean;   // (rows)
    uint offRstd;   // (rows)
    uint offDx;     // backward: (rows, d)
    uint offDgamma; // backward: (d)
    uint offDbeta;  // backward: (d)
    uint affine;    // 1: scale by gamma (and shift by beta)
    float eps;
    uint hasDx;       // backward: rows get dx work items
    uint accumulate;  // backward: 1 adds into dx, 0 overwrites it (a fresh scratch gradient)
    uint hasParams;   // backward: d column work items for dgamma and dbeta (always added into)
STRATA_STRUCT_END(LayerNormPush, 64)

#endif

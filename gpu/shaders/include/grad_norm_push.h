// The global gradient norm: sum_squares (each workgroup's partial sum of squares of one chunk),
// sum_squares_final (one workgroup adds the partial sums) and clip_scale (scales the gradients
// when the norm is above the limit).
#ifndef STRATA_GRAD_NORM_PUSH_H
#define STRATA_GRAD_NORM_PUSH_H
#include "push_shim.h"

STRATA_STRUCT_BEGIN(GradNormPush)
    uint n;       // sum_squares, clip_scale: elements of this chunk; final: partial sums
    uint offIn;   // element offset of the values (or partial sums) inside binding 0
    uint offOut;  // sum_squares: this chunk's first partial; final: the result; clip: the sum
    float clipTo;  // clip_scale: the largest norm left unscaled
STRATA_STRUCT_END(GradNormPush, 16)

#endif

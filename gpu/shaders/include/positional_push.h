// positional_encoding: y = drop(x + pe[:T]) with the sinusoidal table computed in the kernel or
// a learned table (max_len, D), and its backward.
#ifndef STRATA_POSITIONAL_PUSH_H
#define STRATA_POSITIONAL_PUSH_H
#include "push_shim.h"

STRATA_STRUCT_BEGIN(PositionalPush)
    uint n;
    uint t;
    uint d;
    uint offIn;    // forward: x (N, T, D); backward: dy (N, T, D)
    uint offOut;   // forward: y (N, T, D); backward: dx (N, T, D), added into
    uint offW;     // forward: the learned table; backward: its gradient, added into
    uint offSeed;
    uint learned;  // forward: 1 reads the table, 0 computes sines
    float p;
    uint dropOn;
    uint hasOut;   // backward: dx wanted
    uint hasW;     // backward: table gradient wanted
    uint firstSample;  // index of sample 0 in the whole batch (dropout draws by element index)
STRATA_STRUCT_END(PositionalPush, 52)

#endif

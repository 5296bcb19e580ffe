// The variadic structural kernels: add with PyTorch broadcasting (add_fwd, add_bwd) and concat
// (concat_fwd, concat_bwd). Up to eight operand slots, bound at bindings 0..7; the output (or its
// gradient) at binding 8.
#ifndef STRATA_BROADCAST_PUSH_H
#define STRATA_BROADCAST_PUSH_H
#include "push_shim.h"

#define STRATA_MAX_SLOTS 8
#define STRATA_MAX_BROADCAST_RANK 8

STRATA_STRUCT_BEGIN(BroadcastAddPush)
    uint n;      // forward: output elements; backward: the slots' gradient elements together
    uint rank;   // output dimensions after merging neighbours that broadcast alike (<= 8)
    uint count;  // slots in use
    uint offY;   // element offset of y (forward) or dy (backward) inside binding 8
    uint dims[8];   // merged output sizes, outermost first
    uint offX[8];   // element offset of slot k inside its binding
    uint start[8];  // backward: index of slot k's first element in the joint range [0, n)
    // Bit 8 * (k % 4) + d of word k / 4: slot k has size 1 along merged dimension d.
    uint broadcastBits[2];
STRATA_STRUCT_END(BroadcastAddPush, 120)

STRATA_STRUCT_BEGIN(ConcatPush)
    uint n;        // output elements: outer * rowOut
    uint count;    // slots in use
    uint rowOut;   // output elements per index of the dimensions before the axis
    uint offY;     // element offset of y (forward) or dy (backward) inside binding 8
    uint present;  // backward: bit k set when slot k receives its gradient in this dispatch
    uint offX[8];  // element offset of slot k inside its binding
    uint at[8];    // where slot k's piece starts inside an output row (its row: at[k+1] - at[k])
STRATA_STRUCT_END(ConcatPush, 84)

#endif

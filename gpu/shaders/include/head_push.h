// Moves between rows (N, L, stride) holding up to three column blocks of width E = h * dh at
// col0, col0 + E, col0 + 2E, and head-major tensors (N, H, L, Dh), one per block.
#ifndef STRATA_HEAD_PUSH_H
#define STRATA_HEAD_PUSH_H
#include "push_shim.h"

STRATA_STRUCT_BEGIN(HeadPush)
    uint n;
    uint l;
    uint h;
    uint dh;
    uint stride;  // floats per row of the row-major side
    uint col0;    // first column of block 0
    uint parts;   // 1..3 blocks
    uint offRows;
    uint offHeads0;
    uint offHeads1;
    uint offHeads2;
STRATA_STRUCT_END(HeadPush, 44)

#endif

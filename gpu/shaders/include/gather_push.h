// Gathering a batch from a dataset resident in device memory: dst row r = source row indices[r].
#ifndef STRATA_GATHER_PUSH_H
#define STRATA_GATHER_PUSH_H
#include "push_shim.h"

STRATA_STRUCT_BEGIN(GatherPush)
    uint n;          // dst elements: gathered rows * rowFloats
    uint rowFloats;
    uint offSrc;     // element offsets inside the bindings
    uint offIdx;
    uint offDst;
    uint rowBegin;   // the source rows bound in this dispatch: [rowBegin, rowEnd)
    uint rowEnd;
    uint zeroOthers;  // 1: rows whose index is outside [0, rows) are written as zeros
    uint rows;        // rows of the whole source
STRATA_STRUCT_END(GatherPush, 36)

#endif

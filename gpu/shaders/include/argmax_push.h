// Classifier metrics on the device: per-row argmax of (rows, classes) logits, then the number of
// correct predictions among counted targets added to a counter.
#ifndef STRATA_ARGMAX_PUSH_H
#define STRATA_ARGMAX_PUSH_H
#include "push_shim.h"

STRATA_STRUCT_BEGIN(ArgmaxPush)
    uint rows;
    uint classes;
    int ignoreIndex;
    uint offLogits;   // (rows, classes)
    uint offTargets;  // (rows) class ids as exact floats
    uint offPred;     // (rows) argmax as exact floats
    uint offCorrect;  // 1 float, accumulated into
    uint offCounted;  // 1 float, accumulated into, when hasCounted
    uint hasCounted;
STRATA_STRUCT_END(ArgmaxPush, 36)

#endif

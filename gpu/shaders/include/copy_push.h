// Elementwise copy and accumulate (flatten, reshape, dropout in evaluation, gradient routing).
#ifndef STRATA_COPY_PUSH_H
#define STRATA_COPY_PUSH_H
#include "push_shim.h"

STRATA_STRUCT_BEGIN(CopyPush)
    uint n;
    uint offSrc;      // element offsets inside the bindings
    uint offDst;
    uint accumulate;  // 0: dst = src; 1: dst += src
STRATA_STRUCT_END(CopyPush, 16)

#endif

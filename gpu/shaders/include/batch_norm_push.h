// batch_norm over x viewed as (n, channels, inner): one workgroup per channel.
#ifndef STRATA_BATCH_NORM_PUSH_H
#define STRATA_BATCH_NORM_PUSH_H
#include "push_shim.h"

STRATA_STRUCT_BEGIN(BatchNormFwdPush)
    uint n;
    uint channels;
    uint inner;
    uint training;   // 1: batch statistics, running statistics updated; 0: running statistics
    float eps;
    float momentum;
    uint offX;       // element offsets inside the bindings
    uint offY;
    uint offGamma;
    uint offBeta;
    uint offRunningMean;
    uint offRunningVar;
    uint offMean;    // aux: the mean forward normalised with
    uint offInvstd;  // aux: 1 / sqrt(var + eps)
STRATA_STRUCT_END(BatchNormFwdPush, 56)

STRATA_STRUCT_BEGIN(BatchNormBwdPush)
    uint n;
    uint channels;
    uint inner;
    uint training;  // 0: the statistics were constants, so dx = dy * gamma * invstd
    uint offX;
    uint offDy;
    uint offGamma;
    uint offMean;
    uint offInvstd;
    uint offDx;      // accumulated into, when hasDx
    uint offDgamma;  // accumulated into, when hasDgamma
    uint offDbeta;   // accumulated into, when hasDbeta
    uint hasDx;
    uint hasDgamma;
    uint hasDbeta;
STRATA_STRUCT_END(BatchNormBwdPush, 60)

#endif

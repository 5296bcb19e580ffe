// batch_norm over x viewed as (n, channels, inner): one workgroup per channel. A tensor that fits
// one binding is done in one dispatch per direction (phase 0). A larger one is split into chunks
// of whole samples, of channel planes of one sample, or of one plane's values; each phase then
// runs once per chunk, carrying per-channel partial sums from chunk to chunk in memory.
#ifndef STRATA_BATCH_NORM_PUSH_H
#define STRATA_BATCH_NORM_PUSH_H
#include "push_shim.h"

// Phases of a split batch_norm (0: the whole tensor at once).
#define STRATA_BN_WHOLE 0u
#define STRATA_BN_SUM 1u        // forward: mean[ch] accumulates sum(x)
#define STRATA_BN_SQUARES 2u    // forward: invstd[ch] accumulates sum((x - sum / count)^2)
#define STRATA_BN_NORMALISE 3u  // forward: statistics finalised on a channel's first chunk; y
#define STRATA_BN_GRAD_SUMS 1u  // backward: sums[2 ch] += sum(dy), sums[2 ch + 1] += sum(dy xhat)
#define STRATA_BN_GRAD_APPLY 2u // backward: dgamma, dbeta on a channel's first chunk; dx

STRATA_STRUCT_BEGIN(BatchNormFwdPush)
    uint n;          // samples in this chunk
    uint channels;   // channels of the tensor (the sample stride is channels * inner)
    uint inner;      // values per channel plane of the tensor (the channel stride)
    uint training;   // 1: batch statistics, running statistics updated; 0: running statistics
    float eps;
    float momentum;
    uint offX;       // element offsets inside the bindings (x and y at the chunk's start)
    uint offY;
    uint offGamma;   // gamma, beta, running statistics, mean and invstd at channel 0
    uint offBeta;
    uint offRunningMean;
    uint offRunningVar;
    uint offMean;    // aux: the mean forward normalised with
    uint offInvstd;  // aux: 1 / sqrt(var + eps)
    uint phase;      // STRATA_BN_*
    uint channel0;   // the chunk's first channel
    uint chunkChannels;  // channels in the chunk
    uint chunkInner;     // values of each plane in the chunk
    uint first;      // 1: the chunk holds its channels' first values (sums start here)
    uint count;      // values per channel in the whole tensor: n * inner
STRATA_STRUCT_END(BatchNormFwdPush, 80)

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
    uint offDgamma;  // accumulated into, when hasDgamma; at the chunk's first channel
    uint offDbeta;   // accumulated into, when hasDbeta; at the chunk's first channel
    uint hasDx;
    uint hasDgamma;
    uint hasDbeta;
    uint phase;      // STRATA_BN_WHOLE, STRATA_BN_GRAD_SUMS or STRATA_BN_GRAD_APPLY
    uint channel0;
    uint chunkChannels;
    uint chunkInner;
    uint first;
    uint count;
    uint offSums;    // split only: (channels, 2) partial sums
STRATA_STRUCT_END(BatchNormBwdPush, 88)

#endif

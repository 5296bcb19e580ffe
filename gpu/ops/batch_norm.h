#pragma once
// batch_norm over x viewed as (n, channels, inner): per-channel statistics over the batch and
// every position, exactly the CPU kernel's arithmetic (core/layers/norm.cpp).
#include <cstdint>

#include "gpu/recorder.h"

namespace strata::gpu::ops {

struct BatchNormDims {
    uint32_t n = 0, channels = 0, inner = 1;
    uint64_t numel() const { return uint64_t(n) * channels * inner; }
};

struct BatchNormFwdArgs {
    BatchNormDims dims;
    bool training = true;  // batch statistics, running statistics updated; else running ones
    float eps = 1e-5f;
    float momentum = 0.1f;
    BufferRange x, y;                        // (n, channels, inner)
    BufferRange gamma, beta;                 // (channels)
    BufferRange runningMean, runningVar;     // (channels), updated in training
    BufferRange mean, invstd;                // (channels) aux written for backward
};

// One dispatch: statistics, running-statistic update, aux and output. A tensor larger than one
// binding takes three dispatches per chunk (sums, squared deviations, output).
Result<void> recordBatchNormFwd(Recorder& rec, const BatchNormFwdArgs& a);

struct BatchNormBwdArgs {
    BatchNormDims dims;
    bool training = true;                 // as in forward: whether the statistics depend on x
    BufferRange x, dy;                    // (n, channels, inner)
    BufferRange gamma, mean, invstd;      // (channels)
    BufferRange dx;                       // (n, channels, inner), += ; empty: not needed
    BufferRange dgamma, dbeta;            // (channels), += ; empty: not needed
    BufferRange sums;  // (channels, 2) scratch, needed only when batchNormBwdSplits() says so
};

// Whether backward must split its tensors across bindings (and so needs `sums`).
bool batchNormBwdSplits(const Device& dev, const BatchNormBwdArgs& a);

// One dispatch: the per-channel sums, then dgamma, dbeta and dx. A tensor larger than one
// binding takes two dispatches per chunk (sums, then the updates).
Result<void> recordBatchNormBwd(Recorder& rec, const BatchNormBwdArgs& a);

}  // namespace strata::gpu::ops

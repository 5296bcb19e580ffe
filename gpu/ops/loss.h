#pragma once
// Loss kernels: each forward writes per-row or per-workgroup partial results into scratch and
// one workgroup reduces them to the scalar loss (deterministic: no float atomics); each backward
// reads the scalar's gradient from device memory, so a replayed step may seed any value.
#include <cstdint>

#include "gpu/recorder.h"

namespace strata::gpu::ops {

struct CrossEntropyArgs {
    uint32_t rows = 0;     // N or N*T
    uint32_t classes = 0;  // C
    int32_t ignoreIndex = -100;
    float labelSmoothing = 0.0f;
    BufferRange logits;   // (rows, classes)
    BufferRange targets;  // (rows) class ids as exact floats
};

// Scratch floats recordCrossEntropyFwd needs.
inline uint64_t crossEntropyPartials(uint32_t rows) { return 2 * uint64_t(rows); }
// loss (1 float) = mean over counted rows of the smoothed log-softmax NLL; 0 when none counts.
Result<void> recordCrossEntropyFwd(Recorder& rec, const CrossEntropyArgs& a,
                                   const BufferRange& partials, const BufferRange& loss);
// dx (rows, classes) += dLoss / counted * (softmax - smoothed one-hot); `scale`: 1 float scratch.
Result<void> recordCrossEntropyBwd(Recorder& rec, const CrossEntropyArgs& a,
                                   const BufferRange& gradLoss, const BufferRange& scale,
                                   const BufferRange& dx);

// Elementwise losses over x and t of the same length n, mean over all elements.
enum class PairLoss { Mse, BceWithLogits };

// Scratch floats recordPairLossFwd needs for n values (one per workgroup).
uint64_t pairLossPartials(const Device& device, uint64_t n);
Result<void> recordPairLossFwd(Recorder& rec, PairLoss kind, const BufferRange& x,
                               const BufferRange& t, const BufferRange& partials,
                               const BufferRange& loss);
// dx += dLoss * dloss/dx, dt += dLoss * dloss/dt; either may be empty (not needed).
Result<void> recordPairLossBwd(Recorder& rec, PairLoss kind, const BufferRange& x,
                               const BufferRange& t, const BufferRange& gradLoss,
                               const BufferRange& dx, const BufferRange& dt);

// One workgroup: out (1 float) = scale * sum(a), or sum(a) / sum(b) (0 when sum(b) is 0), where
// b, when used, is the n floats that follow a in the same range.  // values: (n) or (2, n)
Result<void> recordReduceSum(Recorder& rec, uint32_t n, bool ratio, float scale,
                             const BufferRange& values, const BufferRange& out,
                             const std::string& label);

}  // namespace strata::gpu::ops

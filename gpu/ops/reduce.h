#pragma once
// The global gradient norm over a whole gradient arena, deterministically: a fixed-order
// two-stage reduction (partial sums per workgroup, then one workgroup adds them), and the
// clipping that scales gradients by it. Arenas larger than one binding are split in chunks;
// the partial-sum buffer holds one entry per workgroup of every chunk.
#include <cstdint>

#include "gpu/recorder.h"

namespace strata::gpu::ops {

// Floats the partial-sum buffer of recordSquaredNorm needs for these gradients.
uint64_t squaredNormPartials(const Device& device, const BufferRange& grads);

// out[0] = Σ grads[i]²; partials: at least squaredNormPartials(grads) floats of scratch.
// grads (n); out: one float (more are left alone).
Result<void> recordSquaredNorm(Recorder& rec, const BufferRange& grads,
                               const BufferRange& partials, const BufferRange& out);

// grads *= clipTo / (sqrt(s) + 1e-6) when sqrt(s) > clipTo and is finite, s = normSquared[0]
// as recordSquaredNorm left it. clipTo is recorded: change it by recording again.
Result<void> recordClipScale(Recorder& rec, const BufferRange& grads,
                             const BufferRange& normSquared, float clipTo);

}  // namespace strata::gpu::ops

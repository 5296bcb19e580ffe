#pragma once
// Layer normalisation over rows of length d (nn.LayerNorm over the last dim), as
// attn::layerNormRowsFwd / layerNormRowsBwd: used by layer_norm and the transformer block.
#include <cstdint>

#include "gpu/recorder.h"

namespace strata::gpu::ops {

struct LayerNormArgs {
    uint32_t rows = 0;
    uint32_t d = 0;
    float eps = 1e-5f;
    BufferRange x;      // (rows, d) the forward's input
    BufferRange gamma;  // (d), empty without affine
    BufferRange beta;   // (d), empty without affine
    BufferRange mean;   // (rows) saved by forward
    BufferRange rstd;   // (rows) saved by forward
};

// y (rows, d) = (x - mean) * rstd * gamma + beta; writes mean and rstd.
Result<void> recordLayerNormFwd(Recorder& rec, const LayerNormArgs& a, const BufferRange& y);

// dx (rows, d) += (or = when !accumulate) the input gradient, skipped when empty;
// dgamma, dbeta (d) += their gradients, skipped when empty. One dispatch, or one per part of
// the rows when the tensors are larger than one binding (as in forward).
Result<void> recordLayerNormBwd(Recorder& rec, const LayerNormArgs& a, const BufferRange& dy,
                                const BufferRange& dx, bool accumulate,
                                const BufferRange& dgamma, const BufferRange& dbeta);

}  // namespace strata::gpu::ops

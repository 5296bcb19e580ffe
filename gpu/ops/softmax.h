#pragma once
// Softmax over the last dimension, viewing the tensor as (rows, cols).
#include <cstdint>

#include "gpu/recorder.h"

namespace strata::gpu::ops {

// y = softmax(x) per row.  // x, y: (rows, cols)
Result<void> recordSoftmaxFwd(Recorder& rec, uint32_t rows, uint32_t cols, const BufferRange& x,
                              const BufferRange& y);
// dx += y * (dy - sum(dy * y)) per row, from the saved output y.  // (rows, cols) each
Result<void> recordSoftmaxBwd(Recorder& rec, uint32_t rows, uint32_t cols, const BufferRange& y,
                              const BufferRange& dy, const BufferRange& dx);

}  // namespace strata::gpu::ops

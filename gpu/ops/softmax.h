#pragma once
// Softmax over one dimension of a tensor viewed as (outer, len, inner): the last dimension when
// inner == 1 (rows of a matrix), any other dimension when inner > 1.
#include <cstdint>

#include "gpu/recorder.h"

namespace strata::gpu::ops {

struct SoftmaxDims {
    uint32_t outer = 1, len = 1, inner = 1;  // softmax over len
    uint64_t numel() const { return uint64_t(outer) * len * inner; }
};

// y = softmax(x) along len.  // x, y: (outer, len, inner)
Result<void> recordSoftmaxFwd(Recorder& rec, const SoftmaxDims& d, const BufferRange& x,
                              const BufferRange& y);
// dx += y * (dy - sum(dy * y)) along len, from the saved output y.  // (outer, len, inner) each
Result<void> recordSoftmaxBwd(Recorder& rec, const SoftmaxDims& d, const BufferRange& y,
                              const BufferRange& dy, const BufferRange& dx);

// The last dimension of a (rows, cols) matrix.
inline Result<void> recordSoftmaxFwd(Recorder& rec, uint32_t rows, uint32_t cols,
                                     const BufferRange& x, const BufferRange& y) {
    return recordSoftmaxFwd(rec, SoftmaxDims{rows, cols, 1}, x, y);
}
inline Result<void> recordSoftmaxBwd(Recorder& rec, uint32_t rows, uint32_t cols,
                                     const BufferRange& y, const BufferRange& dy,
                                     const BufferRange& dx) {
    return recordSoftmaxBwd(rec, SoftmaxDims{rows, cols, 1}, y, dy, dx);
}

}  // namespace strata::gpu::ops

#pragma once
// Embedding lookup and its gradient, deterministic without float atomics: positions selecting
// the same row are chained in increasing order, then each (row, feature) sums its chain.
#include <cstdint>

#include "gpu/recorder.h"

namespace strata::gpu::ops {

// y (P, dim) = weight[ids] with zero rows for ids outside [0, rows).
Result<void> recordEmbeddingFwd(Recorder& rec, uint32_t rows, uint32_t dim,
                                const BufferRange& ids, const BufferRange& weight,
                                const BufferRange& y, const std::string& label);

// dw (rows, dim) += scatter of dy (P, dim) by ids; links: 2P floats of scratch.
Result<void> recordEmbeddingBwd(Recorder& rec, uint32_t rows, uint32_t dim,
                                const BufferRange& ids, const BufferRange& dy,
                                const BufferRange& dw, const BufferRange& links,
                                const std::string& label);

}  // namespace strata::gpu::ops

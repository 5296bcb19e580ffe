#pragma once
// Batches gathered on the device from a dataset kept there: a step uploads only the row
// numbers. A source larger than one binding is bound in parts of whole rows, one dispatch each.
#include <cstdint>

#include "gpu/recorder.h"

namespace strata::gpu::ops {

// dst[r, :] = source[indices[r], :]. source (rows, rowFloats); indices (n) row numbers stored as
// exact floats (< 2^24); dst (n, rowFloats). A row number outside [0, rows) gives a row of zeros.
Result<void> recordGatherRows(Recorder& rec, const BufferRange& source, uint64_t rowFloats,
                              const BufferRange& indices, const BufferRange& dst);

}  // namespace strata::gpu::ops

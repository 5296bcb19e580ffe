#pragma once
// Elementwise copies between same-length ranges, split into chunks whose bindings fit the device:
// the forward of flatten and reshape (and dropout in evaluation), and the gradient routing of
// their backward.
#include <string>

#include "gpu/recorder.h"

namespace strata::gpu::ops {

// dst = src.  // (n) each
// label names the dispatches in barrier reasons.
Result<void> recordCopy(Recorder& rec, const BufferRange& src, const BufferRange& dst,
                        const std::string& label = "copy");
// dst += src.  // (n) each
Result<void> recordAddInto(Recorder& rec, const BufferRange& src, const BufferRange& dst,
                           const std::string& label = "add_into");

}  // namespace strata::gpu::ops

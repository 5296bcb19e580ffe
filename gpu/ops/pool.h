#pragma once
// Pooling over `planes` = N*C independent (H, W) planes: max_pool2d (with the argmax saved for
// backward), avg_pool2d (count_include_pad) and global_avg_pool2d. Backward kernels add into dx.
#include <cstdint>

#include "gpu/recorder.h"

namespace strata::gpu::ops {

struct PoolGeometry {
    uint32_t planes = 0;               // N*C
    uint32_t height = 0, width = 0;    // input (H, W)
    uint32_t outH = 0, outW = 0;       // output (OH, OW)
    uint32_t kernel = 1, stride = 1, padding = 0;
};

// y, argmax (planes, OH, OW) = max over windows of x (planes, H, W).
Result<void> recordMaxPool2dFwd(Recorder& rec, const PoolGeometry& g, const BufferRange& x,
                                const BufferRange& y, const BufferRange& argmax);
// dx (planes, H, W) += dy (planes, OH, OW) routed through argmax.
Result<void> recordMaxPool2dBwd(Recorder& rec, const PoolGeometry& g, const BufferRange& dy,
                                const BufferRange& argmax, const BufferRange& dx);
// y (planes, OH, OW) = window sums of x (planes, H, W) / k^2.
Result<void> recordAvgPool2dFwd(Recorder& rec, const PoolGeometry& g, const BufferRange& x,
                                const BufferRange& y);
// dx (planes, H, W) += the adjoint of the window means applied to dy (planes, OH, OW).
Result<void> recordAvgPool2dBwd(Recorder& rec, const PoolGeometry& g, const BufferRange& dy,
                                const BufferRange& dx);
// y (planes) = the mean of each x plane (planes, H, W); outH, outW, kernel are unused.
Result<void> recordGlobalAvgPoolFwd(Recorder& rec, const PoolGeometry& g, const BufferRange& x,
                                    const BufferRange& y);
// dx (planes, H, W) += dy (planes) / (H*W).
Result<void> recordGlobalAvgPoolBwd(Recorder& rec, const PoolGeometry& g, const BufferRange& dy,
                                    const BufferRange& dx);

}  // namespace strata::gpu::ops

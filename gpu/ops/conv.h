#pragma once
// The pieces of conv2d around the GEMM (gpu/ops/gemm.h): im2col, its adjoint col2im, and the
// regrouping between the GEMM's channel-major blocks and sample-major tensors. Column layout:
// (C*k*k, samples, OH*OW), see gpu/shaders/include/conv_push.h.
#include <cstdint>

#include "gpu/recorder.h"

namespace strata::gpu::ops {

// One image's geometry; every sample of a chunk shares it.
struct ConvGeometry {
    uint32_t channels = 0, height = 0, width = 0;  // input (C, H, W)
    uint32_t outH = 0, outW = 0;                   // output (OH, OW)
    uint32_t kernel = 1, stride = 1, padding = 0, dilation = 1;

    uint64_t colRows() const { return uint64_t(channels) * kernel * kernel; }
    uint64_t positions() const { return uint64_t(outH) * outW; }
    uint64_t pixels() const { return uint64_t(channels) * height * width; }
};

// col (C*k*k, samples, OH*OW) = im2col(img (samples, C, H, W)).
Result<void> recordIm2col(Recorder& rec, const ConvGeometry& g, uint32_t samples,
                          const BufferRange& img, const BufferRange& col);
// dx (samples, C, H, W) += col2im(dcol (C*k*k, samples, OH*OW)).
Result<void> recordCol2imAdd(Recorder& rec, const ConvGeometry& g, uint32_t samples,
                             const BufferRange& dcol, const BufferRange& dx);
// dst (d1, d0, inner) = src (d0, d1, inner) + bias[j0] (bias (d0), or empty for none).
Result<void> recordConvRegroup(Recorder& rec, uint32_t d0, uint32_t d1, uint32_t inner,
                               const BufferRange& src, const BufferRange& dst,
                               const BufferRange& bias, const std::string& label);

}  // namespace strata::gpu::ops

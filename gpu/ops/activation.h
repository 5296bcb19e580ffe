#pragma once
// Elementwise activations (forward, backward from the saved input) and dropout.
#include <cstdint>

#include "gpu/recorder.h"

namespace strata::gpu::ops {

// Values of kAct* in gpu/shaders/include/activation.glsl.
enum class Activation : uint32_t {
    None = 0,
    Relu = 1,
    LeakyRelu = 2,  // param: negative slope
    Gelu = 3,       // exact (erf)
    GeluTanh = 4,   // PyTorch's approximate='tanh'
    Sigmoid = 5,
    Tanh = 6,
};

// y = act(x); x and y hold the same number of floats.  // (n)
Result<void> recordActivationFwd(Recorder& rec, Activation act, float param, const BufferRange& x,
                                 const BufferRange& y);
// dx += dy * act'(x).  // (n) each
Result<void> recordActivationBwd(Recorder& rec, Activation act, float param, const BufferRange& x,
                                 const BufferRange& dy, const BufferRange& dx);
// Dropout reads its seed from `seed`: 8 bytes holding the 64-bit seed as (lo, hi) words, which
// the backend rewrites before every replay (GpuOpContext::seed), so one recording draws a new
// mask each step.
// y = x / (1 - p) where cpu::uniform01(seed, i) >= p, else 0.  // (n)
Result<void> recordDropoutFwd(Recorder& rec, float p, const BufferRange& seed,
                              const BufferRange& x, const BufferRange& y);
// dx += dy * mask / (1 - p), the mask regenerated from seed.  // (n)
Result<void> recordDropoutBwd(Recorder& rec, float p, const BufferRange& seed,
                              const BufferRange& dy, const BufferRange& dx);

}  // namespace strata::gpu::ops

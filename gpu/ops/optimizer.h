#pragma once
// Fused optimizer updates over whole arenas: one dispatch (per binding-sized chunk) updates every
// parameter. The learning rate and step count are read from a StepValues buffer
// (gpu/shaders/include/optimizer_push.h) that the trainer rewrites between replays.
#include "gpu/recorder.h"

namespace strata::gpu::ops {

struct SgdSettings {
    float momentum = 0.0f;
    float dampening = 0.0f;
    float weightDecay = 0.0f;
    bool nesterov = false;
};

struct AdamSettings {
    float beta1 = 0.9f;
    float beta2 = 0.999f;
    float eps = 1e-8f;
    float weightDecay = 0.0f;
    bool decoupled = false;  // AdamW
};

// torch.optim.RMSprop. The CPU backend implements centered = false only; centered needs a third
// state slot (the gradient average).
struct RmspropSettings {
    float alpha = 0.99f;
    float eps = 1e-8f;
    float weightDecay = 0.0f;
    float momentum = 0.0f;
    bool centered = false;
};

// params, grads, momentum: (n) each; stepValues: one StepValues.
Result<void> recordSgdUpdate(Recorder& rec, const SgdSettings& s, const BufferRange& params,
                             const BufferRange& grads, const BufferRange& momentum,
                             const BufferRange& stepValues);
// params, grads, m1, m2: (n) each; stepValues: one StepValues.
Result<void> recordAdamUpdate(Recorder& rec, const AdamSettings& s, const BufferRange& params,
                              const BufferRange& grads, const BufferRange& m1,
                              const BufferRange& m2, const BufferRange& stepValues);

// params, grads, squareAvg: (n) each; momentum: (n) when s.momentum > 0, else empty; gradAvg:
// (n) when s.centered, else empty; stepValues: one StepValues. The CPU's state layout
// (core/train/optimizer.h) is squareAvg = slot 0, momentum = slot 1.
Result<void> recordRmspropUpdate(Recorder& rec, const RmspropSettings& s,
                                 const BufferRange& params, const BufferRange& grads,
                                 const BufferRange& squareAvg, const BufferRange& momentum,
                                 const BufferRange& gradAvg, const BufferRange& stepValues);

}  // namespace strata::gpu::ops

namespace strata::gpu::ops {

// Copies the loss (one float) into stepValues.loss and sets stepValues.skip when it or
// stepValues.normSquared is not finite, or when `halt` (one uint shared by the steps in flight)
// is set; a skipped step sets `halt`, so the steps queued behind a bad one keep the weights too.
// The updates above then leave everything unchanged.
Result<void> recordStepGuard(Recorder& rec, const BufferRange& loss,
                             const BufferRange& stepValues, const BufferRange& halt);

}  // namespace strata::gpu::ops

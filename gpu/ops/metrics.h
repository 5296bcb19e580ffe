#pragma once
// Classifier metrics on the device, so the trainer reads back a few floats instead of logits:
// per-row argmax (the predictions a confusion matrix needs) and the count of correct ones.
#include <cstdint>

#include "gpu/recorder.h"

namespace strata::gpu::ops {

struct ArgmaxAccuracyArgs {
    uint32_t rows = 0;
    uint32_t classes = 0;
    // Targets equal to this, or outside [0, classes), are not counted (core ClassifierScore).
    int32_t ignoreIndex = -100;
    BufferRange logits;       // (rows, classes)
    BufferRange targets;      // (rows) class ids as exact floats
    BufferRange predictions;  // (rows) written: argmax as exact floats, the first of equal maxima
    BufferRange correct;      // 1 float, += rows whose prediction equals a counted target
    BufferRange counted;      // 1 float, += counted targets; may be empty
};

// Two dispatches: argmax per row, then one workgroup adds the counts (exact integers in floats
// up to 2^24 in total; no atomics, so the same batch gives the same bits).
Result<void> recordArgmaxAccuracy(Recorder& rec, const ArgmaxAccuracyArgs& a);

}  // namespace strata::gpu::ops

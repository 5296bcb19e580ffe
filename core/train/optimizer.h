#pragma once
// Optimizer updates fused over a whole arena (one loop, like one GPU dispatch), with exactly
// PyTorch's formulas (torch.optim SGD, Adam, AdamW, RMSprop with their default flags:
// dampening 0, amsgrad off, centered off), and the learning-rate schedules.
#include <cstdint>

#include "core/io/document.h"

namespace strata {

// One update of `count` parameters. `step` counts from 1 (Adam's bias correction). `state` holds
// optimizerStateSlots(o) slots of `count` floats each, zero before the first step.
void optimizerUpdate(const OptimizerSettings& o, float learningRate, int64_t step, float* params,
                     const float* grads, float* state, int64_t count);

// The learning rate for a 0-based step. `stepsPerEpoch` turns steps into epochs for the step and
// exponential schedules; `totalSteps` is the cosine period. Warm-up multiplies by
// (step + 1) / warmupSteps during the first warmupSteps steps; cosine then runs over the rest.
double scheduledLearningRate(const ScheduleSettings& s, double baseLearningRate, int64_t step,
                             int64_t stepsPerEpoch, int64_t totalSteps);

}  // namespace strata

// Fused optimizer updates over a whole parameter arena; the learning rate and step count come
// from the StepValues buffer so a schedule never needs the command buffer re-recorded.
#ifndef STRATA_OPTIMIZER_PUSH_H
#define STRATA_OPTIMIZER_PUSH_H
#include "push_shim.h"

STRATA_STRUCT_BEGIN(OptimizerPush)
    uint n;
    uint offParam;  // element offsets inside the bindings (param, grad, state0, state1)
    uint offGrad;
    uint offState0;  // SGD: momentum buffer; Adam: first moment; RMSprop: square average
    uint offState1;  // Adam: second moment; RMSprop: momentum buffer
    float momentum;  // SGD, RMSprop
    float dampening;
    uint nesterov;
    float weightDecay;
    uint decoupled;  // AdamW: decay the weights directly instead of adding to the gradient
    float beta1;
    float beta2;
    float eps;
    float alpha;     // RMSprop: smoothing of the squared-gradient average
    uint centered;   // RMSprop: divide by the gradient's estimated variance instead
    uint offState2;  // RMSprop centered: the gradient average
STRATA_STRUCT_END(OptimizerPush, 64)

// Values that change every step without re-recording: one small device buffer. The host writes
// the first four before a replay; a recorded training step writes the last four and the host
// reads them after it.
STRATA_STRUCT_BEGIN(StepValues)
    float learningRate;
    uint step;  // 1 for the first update (Adam's bias correction, SGD's momentum start)
    uint seedLo;
    uint seedHi;
    uint skip;          // step_guard: 1 when the loss or the gradient norm is not finite
    float loss;         // step_guard: the step's loss
    float normSquared;  // the squared global gradient norm, before clipping
    float correct;      // cross_entropy models: correct predictions of the step (exact integer)
    float counted;      // and the targets counted (ignore_index excluded)
    uint reserved;
STRATA_STRUCT_END(StepValues, 40)

// step_guard: where the loss is inside its binding.
STRATA_STRUCT_BEGIN(StepGuardPush)
    uint offLoss;
STRATA_STRUCT_END(StepGuardPush, 4)

#endif

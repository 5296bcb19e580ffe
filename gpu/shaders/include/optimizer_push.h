// Fused optimizer updates over a whole parameter arena; the learning rate and step count come
// from the StepValues buffer so a schedule never needs the command buffer re-recorded.
#ifndef STRATA_OPTIMIZER_PUSH_H
#define STRATA_OPTIMIZER_PUSH_H
#include "push_shim.h"

STRATA_STRUCT_BEGIN(OptimizerPush)
    uint n;
    uint offParam;  // element offsets inside the bindings (param, grad, state0, state1)
    uint offGrad;
    uint offState0;  // SGD: momentum buffer; Adam: first moment
    uint offState1;  // Adam: second moment
    float momentum;  // SGD
    float dampening;
    uint nesterov;
    float weightDecay;
    uint decoupled;  // AdamW: decay the weights directly instead of adding to the gradient
    float beta1;
    float beta2;
    float eps;
STRATA_STRUCT_END(OptimizerPush, 52)

// Values that change every step without re-recording: one small device buffer.
STRATA_STRUCT_BEGIN(StepValues)
    float learningRate;
    uint step;  // 1 for the first update (Adam's bias correction, SGD's momentum start)
    uint seedLo;
    uint seedHi;
STRATA_STRUCT_END(StepValues, 16)

#endif

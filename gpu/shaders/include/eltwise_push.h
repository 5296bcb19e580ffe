// Elementwise kernels over n floats: activations forward/backward and dropout.
#ifndef STRATA_ELTWISE_PUSH_H
#define STRATA_ELTWISE_PUSH_H
#include "push_shim.h"

STRATA_STRUCT_BEGIN(EltwisePush)
    uint n;
    uint offX;   // forward: input x; backward: the saved input x
    uint offY;   // forward: output y; backward: incoming gradient dy
    uint offDx;  // backward: gradient dx (accumulated into)
    uint activation;  // kAct* from activation.glsl
    float param;      // leaky_relu's negative slope; dropout's p
    uint offSeed;     // dropout: where the seed's (lo, hi) words start inside its binding
    uint indexBase;   // dropout: index of element 0 (chunks of a split binding continue counting)
STRATA_STRUCT_END(EltwisePush, 32)

#endif

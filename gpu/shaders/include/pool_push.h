// max_pool2d, avg_pool2d and global_avg_pool2d over `planes` (N*C) independent (H, W) planes.
#ifndef STRATA_POOL_PUSH_H
#define STRATA_POOL_PUSH_H
#include "push_shim.h"

STRATA_STRUCT_BEGIN(PoolPush)
    uint count;    // items of the grid-stride loop: outputs (forward), input pixels (backward)
    uint height;   // input H, W
    uint width;
    uint outH;     // output OH, OW (global pooling: 1, 1)
    uint outW;
    uint kernel;   // square window
    uint stride;
    uint padding;
    uint offX;     // forward: input; backward: unused
    uint offY;     // forward: output; backward: output gradient
    uint offArg;   // max pooling: argmax index inside the (H, W) plane, as an exact float
    uint offDx;    // backward: input gradient, accumulated into
    float scale;   // average pooling: 1 / (k*k), global: 1 / (H*W)
STRATA_STRUCT_END(PoolPush, 52)

#endif

// The attention family's own kernels: masked softmax with dropout on the probabilities, and the
// seeded elementwise steps of the transformer block (residual + dropout, activation + dropout and
// their gradients). Dropout seeds are read from the op's seed buffer at run time (recorded steps
// are replayed with new seeds) and mixed per site as attn::siteSeed does.
#ifndef STRATA_ATTENTION_PUSH_H
#define STRATA_ATTENTION_PUSH_H
#include "push_shim.h"

// Modes of attention_eltwise.comp; drop(v) is the identity when dropOn is 0.
#define STRATA_ATTN_RESIDUAL_DROP 0u   // y = a + drop(b)
#define STRATA_ATTN_ACT_DROP 1u        // y = drop(act(b))
#define STRATA_ATTN_DROP 2u            // y (+)= drop(b)
#define STRATA_ATTN_DROP_ACT_GRAD 3u   // y (+)= drop(b) * act'(a)

STRATA_STRUCT_BEGIN(AttentionEltwisePush)
    uint n;
    uint offA;
    uint offB;
    uint offY;
    uint offSeed;     // uvec2 (lo, hi) of the op's 64-bit seed
    uint mode;        // STRATA_ATTN_*
    uint activation;  // kAct* from activation.glsl
    float p;          // dropout probability
    uint site;        // dropout site (attn::siteSeed)
    uint dropOn;      // training and p > 0
    uint accumulate;  // modes DROP and DROP_ACT_GRAD: 1 adds into y
    uint first;       // index of element 0 in the whole tensor (dropout draws by that index)
STRATA_STRUCT_END(AttentionEltwisePush, 48)

// Rows of `s` attention scores; row r is query position r % t of its (sample, head) block.
STRATA_STRUCT_BEGIN(AttentionSoftmaxPush)
    uint rows;
    uint t;
    uint s;
    uint causal;   // forward: column j > query position i gets probability exactly 0
    uint offP;     // forward: scores in, probabilities out (in place); backward: probabilities
    uint offD;     // forward: dropped probabilities; backward: dP in, dScores out (in place)
    uint offSeed;
    float p;
    uint site;
    uint dropOn;
    uint firstRow;  // index of row 0 in the whole tensor (query position, dropout index)
STRATA_STRUCT_END(AttentionSoftmaxPush, 44)

#endif

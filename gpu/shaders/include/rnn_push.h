// One time step of an rnn/lstm/gru layer direction (the cell is specialization constant 0), and
// the embedding lookup with its deterministic gradient.
#ifndef STRATA_RNN_PUSH_H
#define STRATA_RNN_PUSH_H
#include "push_shim.h"

// Forward: h_t from pre = x W_ihᵀ + b_ih (N, T, G*H) and hh = h_{t-1} W_hhᵀ + b_hh (N, G*H).
STRATA_STRUCT_BEGIN(RnnStepFwdPush)
    uint batch;      // N
    uint steps;      // T
    uint hidden;     // H
    uint seqWidth;   // H * dirs: row length of the hidden sequence and the output
    uint dirOffset;  // dir * H: this direction's columns in those rows
    uint t;          // the time index this step computes
    int tPrev;       // the time index of the previous step, -1 at the first step
    uint relu;       // rnn only: relu instead of tanh
    uint outMode;    // 0: no output; 1: output is the sequence (N, T, H*dirs); 2: (N, H*dirs)
    uint offPre;     // element offsets inside each binding
    uint offHh;
    uint offHsPrev;  // h_{t-1} (N, H), time-major state buffer
    uint offHsNext;  // h_t (N, H)
    uint offSeq;     // hidden sequence aux (N, T, H*dirs)
    uint offGates;   // gates aux (N, T, G*H)
    uint offExtra;   // lstm cell states / gru W_hn h + b_hn (N, T, H)
    uint offY;
STRATA_STRUCT_END(RnnStepFwdPush, 68)

// Backward of one step: gate gradients from dLoss/dh_t = dh (later steps) + dy (this step).
STRATA_STRUCT_BEGIN(RnnStepBwdPush)
    uint batch;
    uint steps;
    uint hidden;
    uint seqWidth;
    uint dirOffset;
    uint t;
    int tPrev;
    uint relu;
    uint dyMode;     // 0: dy is a sequence (N, T, H*dirs); 1: dy is (N, H*dirs), read now; 2: none
    uint offDhIn;    // dLoss/dh_t from later steps (N, H)
    uint offDhOut;   // dLoss/dh_{t-1} not through W_hh (gru's z * g; 0 otherwise) (N, H)
    uint offDy;
    uint offSeq;
    uint offGates;
    uint offExtra;
    uint offDxp;     // d(input projection) (N, T, G*H), batch-major like x
    uint offDq;      // d(W_hh h_{t-1} + b_hh) of this step (N, G*H)
    uint offHPrev;   // h_{t-1} of this step (N, H), for dW_hh
    uint offDc;      // lstm: dLoss/dc carried between steps (N, H)
STRATA_STRUCT_END(RnnStepBwdPush, 76)

STRATA_STRUCT_BEGIN(EmbeddingPush)
    uint positions;  // ids in the batch
    uint dim;        // embedding_dim
    uint rows;       // num_embeddings
    uint offIds;
    uint offW;       // weight (forward) or its gradient (backward)
    uint offY;       // output (forward) or its gradient (backward)
    uint offLinks;   // backward scratch: next position with the same row, then the head flags
STRATA_STRUCT_END(EmbeddingPush, 28)

#endif

// One time step of an rnn/lstm/gru layer direction (the cell is specialization constant 0), and
// the embedding lookup with its deterministic gradient.
#ifndef STRATA_RNN_PUSH_H
#define STRATA_RNN_PUSH_H
#include "push_shim.h"

// Forward of one step, with the recurrent product inside: h_t from pre = x W_ihᵀ + b_ih
// (N, T, G*H) and h_{t-1} W_hhᵀ + b_hh, computed by the same invocations.
STRATA_STRUCT_BEGIN(RnnStepFwdPush)
    uint batch;      // N
    uint steps;      // T
    uint hidden;     // H
    uint seqWidth;   // H * dirs: row length of the hidden sequence and the output
    uint dirOffset;  // dir * H: this direction's columns in those rows
    uint t;          // the time index this step computes
    int tPrev;       // the time index of the previous step, -1 at the first step (h_{t-1} = 0)
    uint relu;       // rnn only: relu instead of tanh
    uint outMode;    // 0: no output; 1: output is the sequence (N, T, H*dirs); 2: (N, H*dirs)
    uint hasBias;    // 1: add b_hh
    uint offPre;     // element offsets inside each binding
    uint offWhh;     // W_hh (G*H, H)
    uint offBhh;     // b_hh (G*H)
    uint offHsPrev;  // h_{t-1} (N, H), time-major state buffer
    uint offHsNext;  // h_t (N, H)
    uint offSeq;     // hidden sequence aux (N, T, H*dirs)
    uint offGates;   // gates aux (N, T, G*H)
    uint offExtra;   // lstm cell states / gru W_hn h + b_hn (N, T, H)
    uint offY;
STRATA_STRUCT_END(RnnStepFwdPush, 76)

// Backward of one step: dLoss/dh_t = dq_{t+1} W_hh (the later step's gate gradients, computed
// here) + the later step's direct part (gru) + dy (this step), then the gate gradients.
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
    uint hasNext;    // 0 at the last time step of the walk: nothing flows back from later steps
    uint offWhh;     // W_hh (G*H, H)
    uint offDqNext;  // the later step's d(W_hh h + b_hh), rows dqStride floats apart
    uint offDhNext;  // gru: the later step's direct part of dLoss/dh_t (N, H)
    uint offDhOut;   // gru: dLoss/dh_{t-1} not through W_hh, z * g (N, H)
    uint offDy;
    uint offSeq;
    uint offGates;
    uint offExtra;
    uint offDxp;     // d(input projection) (N, T, G*H), batch-major like x
    uint offDq;      // gru: d(W_hh h_{t-1} + b_hh) of this step (N, G*H)
    uint offHPrev;   // h_{t-1} of this step, for dW_hh: (N, H), or (N, T, H) when dqInDxp
    uint offDc;      // lstm: dLoss/dc carried between steps (N, H)
    // rnn/lstm: d(W_hh h_{t-1} + b_hh) equals d(input projection), so dq is not written: the
    // later step's dq is read from dxp (dqStride = T*G*H) and h_{t-1} is written batch-major
    // beside it. gru (0): dq is written apart (dqStride = G*H), its n gate differs by r.
    uint dqInDxp;
    uint dqStride;   // floats between the batch rows of dqNext
STRATA_STRUCT_END(RnnStepBwdPush, 96)

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

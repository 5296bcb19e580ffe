#pragma once
// One time step of an rnn/lstm/gru layer direction, forward and backward: fused kernels that
// include the recurrent product with W_hh, one dispatch per step (gpu/ops/recurrent_layers.cpp
// strings them together). A step binds only its own rows of the sequence tensors (times t and
// t_prev of every batch row), so sequences far larger than one binding run; when even those rows
// of the whole batch exceed maxStorageBufferRange, the step is split into blocks of batch rows
// (one dispatch each). W_hh and b_hh are bound whole: a step refuses, naming them, when they do
// not fit.
#include <cstdint>

#include "gpu/recorder.h"

namespace strata::gpu::ops {

// Values of the shaders' specialization constant kCell.
enum class RnnCell : uint32_t { Rnn = 0, Lstm = 1, Gru = 2 };

inline uint32_t gateCount(RnnCell cell) {
    return cell == RnnCell::Rnn ? 1 : cell == RnnCell::Lstm ? 4 : 3;
}

// Sizes and position of one step; G = gateCount(cell).
struct RnnStep {
    RnnCell cell = RnnCell::Rnn;
    uint32_t batch = 0;      // N
    uint32_t steps = 0;      // T
    uint32_t hidden = 0;     // H
    uint32_t seqWidth = 0;   // H * dirs
    uint32_t dirOffset = 0;  // dir * H
    uint32_t t = 0;          // time index of this step
    int32_t tPrev = -1;      // time index of the previous step; -1 at the first
    int32_t tNext = -1;      // time index of the later step; -1 at the last (backward only)
    bool relu = false;       // rnn: relu instead of tanh
};

enum class RnnOutput : uint32_t { None = 0, Sequence = 1, Last = 2 };

struct RnnStepFwdTensors {
    BufferRange pre;     // (N, T, G*H) x W_ihᵀ + b_ih
    BufferRange whh;     // (G*H, H) W_hh
    BufferRange bhh;     // (G*H) b_hh, or empty
    BufferRange hsPrev;  // (N, H) h_{t-1}; ignored at the first step (h_{t-1} = 0)
    BufferRange hsNext;  // (N, H) h_t, packed rows the next step reads
    BufferRange seq;     // (N, T, H*dirs) hidden sequence aux
    BufferRange gates;   // (N, T, G*H) lstm/gru aux; empty for rnn
    BufferRange extra;   // (N, T, H) lstm cell states / gru W_hn h + b_hn; empty for rnn
    BufferRange y;       // the layer's output, or empty
    RnnOutput output = RnnOutput::None;
};

// h_t (the recurrent product h_{t-1} W_hhᵀ included), the saved gates and the output columns
// of this step: one dispatch.
Result<void> recordRnnStepFwd(Recorder& rec, const RnnStep& step, const RnnStepFwdTensors& x,
                              const std::string& label);

enum class RnnGradIn : uint32_t { Sequence = 0, Last = 1, None = 2 };

// rnn and lstm: the gradient of W_hh h_{t-1} + b_hh is the gate gradient dxp itself, so dq and
// dqNext are not used (the later step's dq is read from dxp at time tNext) and hPrev is
// batch-major (N, T, H) like dxp, written at time t: dW_hh and b_hh come from dxp's rows.
// gru (whose n gate's gradient differs by r) writes dq apart, step-major.
struct RnnStepBwdTensors {
    BufferRange whh;     // (G*H, H) W_hh
    BufferRange dqNext;  // gru: (N, G*H) the later step's dq; empty at the walk's first step
    BufferRange dhNext;  // (N, H) gru: the later step's dhOut; empty at the walk's first step
    BufferRange dhOut;   // (N, H) gru: dLoss/dh_{t-1} not through W_hh; empty otherwise
    BufferRange dy;      // (N, T, H*dirs) or (N, H*dirs) by dyMode; empty for None
    RnnGradIn dyMode = RnnGradIn::Sequence;
    BufferRange seq;     // (N, T, H*dirs)
    BufferRange gates;   // (N, T, G*H)
    BufferRange extra;   // (N, T, H)
    BufferRange dxp;     // (N, T, G*H) written at time t
    BufferRange dq;      // gru: (N, G*H) this step's d(W_hh h_{t-1} + b_hh)
    BufferRange hPrev;   // gru: (N, H) this step's h_{t-1}; rnn/lstm: (N, T, H) all steps'
    BufferRange dc;      // (N, H) lstm only; read only when dqNext is given
};

// dLoss/dh_t from the later step (dq_{t+1} W_hh, computed here) and dy, then this step's gate
// gradients: one dispatch. Whether a later step exists is step.tNext >= 0.
Result<void> recordRnnStepBwd(Recorder& rec, const RnnStep& step, const RnnStepBwdTensors& x,
                              const std::string& label);

}  // namespace strata::gpu::ops

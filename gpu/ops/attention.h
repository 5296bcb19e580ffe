#pragma once
// Kernels of the attention family (push constants and dispatch sizes): head split/merge, the
// masked softmax with dropout on the probabilities, the transformer block's seeded elementwise
// steps, and positional encoding. Dropout reads the op's seed buffer at run time and mixes in
// its site exactly as attn::siteSeed, so masks equal the CPU's for every replayed step.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "gpu/ops/activation.h"
#include "gpu/ops/bind_list.h"
#include "gpu/recorder.h"

namespace strata::gpu::ops {


// One dropout site of an op: enabled = training and p > 0. `seed` is the op's seed range
// (uvec2 lo, hi); the kernels read it only when enabled.
struct DropoutSite {
    BufferRange seed;
    float p = 0.0f;
    uint32_t site = 0;
    bool enabled = false;
};

// Rows (n, l, stride) → head-major (n, h, l, dh) for `heads.size()` (1..3) column blocks of
// width h*dh starting at column col0.
Result<void> recordHeadSplit(Recorder& rec, uint32_t n, uint32_t l, uint32_t h, uint32_t dh,
                             const BufferRange& rows, uint32_t stride, uint32_t col0,
                             std::span<const BufferRange> heads);
// The inverse: writes those column blocks of rows (others are left alone).
Result<void> recordHeadMerge(Recorder& rec, uint32_t n, uint32_t l, uint32_t h, uint32_t dh,
                             std::span<const BufferRange> heads, const BufferRange& rows,
                             uint32_t stride, uint32_t col0);

// probs (blocks*t, s): scores in, softmax probabilities out (causal masks columns j > i).
// With dropout on, `dropped` receives the probabilities after dropout.
Result<void> recordAttentionSoftmaxFwd(Recorder& rec, uint32_t blocks, uint32_t t, uint32_t s,
                                       bool causal, const BufferRange& probs,
                                       const DropoutSite& drop, const BufferRange& dropped);
// grad (blocks*t, s): dP in, dScores out, through forward's dropout mask and the softmax.
Result<void> recordAttentionSoftmaxBwd(Recorder& rec, uint32_t blocks, uint32_t t, uint32_t s,
                                       const BufferRange& probs, const DropoutSite& drop,
                                       const BufferRange& grad);

// y = a + drop(b)   // (n) each
Result<void> recordResidualDropout(Recorder& rec, const BufferRange& a, const BufferRange& b,
                                   const DropoutSite& drop, const BufferRange& y);
// y = drop(act(x))  // (n) each
Result<void> recordActivationDropout(Recorder& rec, Activation act, const BufferRange& x,
                                     const DropoutSite& drop, const BufferRange& y);
// y (+)= drop(x)   // (n) each; also a plain copy or add when dropout is off
Result<void> recordDropoutInto(Recorder& rec, const BufferRange& x, const DropoutSite& drop,
                               const BufferRange& y, bool accumulate);
// dpre (+)= drop(dact) * act'(pre)   // (n) each
Result<void> recordDropoutActivationGrad(Recorder& rec, Activation act, const BufferRange& pre,
                                         const BufferRange& dact, const DropoutSite& drop,
                                         const BufferRange& dpre, bool accumulate);

// y (n, t, d) = drop(x + pe[:t]); `table` (max_len, d) for learned encodings, empty for sines.
Result<void> recordPositionalFwd(Recorder& rec, uint32_t n, uint32_t t, uint32_t d,
                                 const BufferRange& x, const BufferRange& table,
                                 const DropoutSite& drop, const BufferRange& y);
// dx += drop(dy); dtable[:t] += batch sum of drop(dy). Either may be empty.
Result<void> recordPositionalBwd(Recorder& rec, uint32_t n, uint32_t t, uint32_t d,
                                 const BufferRange& dy, const DropoutSite& drop,
                                 const BufferRange& dx, const BufferRange& dtable);

}  // namespace strata::gpu::ops

#pragma once
// The variadic structural kernels of the dense family: add with PyTorch broadcasting and concat,
// each one dispatch for all of its 1..8 operands (gradients of operands that share memory go in
// separate dispatches, so no two invocations ever add into the same float). Tensors larger than
// one binding are split into blocks of the output that every operand reaches through one
// contiguous range, one dispatch per block.
#include <string>
#include <vector>

#include "gpu/layer_kernels.h"

namespace strata::gpu::ops {

// y = Σ_k xs[k], each xs[k] broadcast to y's shape (right-aligned, sizes equal or 1).
Result<void> recordAddFwd(Recorder& rec, const std::vector<GpuTensor>& xs, const GpuTensor& y,
                          const std::string& label);
// dxs[k] += dy summed over the dimensions where dxs[k] was broadcast; absent dxs[k] are skipped.
// Deterministic: every gradient element is summed by one invocation in a fixed order.
Result<void> recordAddBwd(Recorder& rec, const GpuTensor& dy, const std::vector<GpuTensor>& dxs,
                          const std::string& label);

// y = torch.cat(xs, axis); axis in [0, rank) of y's shape.
Result<void> recordConcatFwd(Recorder& rec, int axis, const std::vector<GpuTensor>& xs,
                             const GpuTensor& y, const std::string& label);
// dxs[k] += dy's slice for input k (whose shape is shapes[k]); absent dxs[k] are skipped.
Result<void> recordConcatBwd(Recorder& rec, int axis, const GpuTensor& dy,
                             const std::vector<Shape>& shapes, const std::vector<GpuTensor>& dxs,
                             const std::string& label);

}  // namespace strata::gpu::ops

#pragma once
// The Vulkan side of "one layer, one definition": for each layer id, the functions that record
// its forward and backward dispatches. They follow the CPU kernels' conventions exactly
// (core/engine/op_context.h): forward writes outputs and aux completely; backward ADDS into
// gradInputs and gradWeights; an empty gradInput needs no gradient. Integer tensors (token ids,
// class labels) are stored as exact floats, as on the CPU.
//
// Recording happens once per (program, batch, mode); the commands are replayed every step, so a
// kernel must take everything that changes between steps from device buffers (the op's seed),
// never from values captured at record time.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/layers/param.h"
#include "core/tensor/shape.h"
#include "core/util/result.h"
#include "gpu/recorder.h"

namespace strata::gpu {

struct GpuTensor {
    BufferRange range;  // exactly the tensor's floats
    Shape shape;        // concrete, with the recorded batch
    bool present() const { return !range.empty(); }
    int64_t numel() const { return shape.numel(); }
};

struct GpuOpContext {
    Recorder& rec;
    const Params& params;
    std::string name;  // the node's name: prefix of dispatch labels ("fc1 forward")
    bool training = true;
    // 8 bytes (uvec2 lo, hi) holding this op's per-step seed, opSeed(step seed, node), which
    // the backend rewrites before every replay. Dropout binds it; forward and backward of one
    // step see the same value.
    BufferRange seed;
    std::vector<GpuTensor> inputs;   // in input-port order; an unconnected optional port is empty
    std::vector<GpuTensor> outputs;  // in output-port order
    std::vector<GpuTensor> weights;  // in LayerInfo::weights order
    std::vector<GpuTensor> aux;      // in LayerInfo::aux order, kept from forward to backward
    // Backward only:
    std::vector<GpuTensor> gradOutputs;
    std::vector<GpuTensor> gradInputs;
    std::vector<GpuTensor> gradWeights;
    // Temporary device memory valid only within this op's commands (im2col columns, gate
    // pre-activations, partial sums). Fails when the backend's scratch space is too small; the
    // backend then grows it and records again.
    std::function<Result<BufferRange>(uint64_t floats, const std::string& what)> scratch;

    Device& device() const { return rec.device(); }
    std::string label(const std::string& what) const { return name + " " + what; }
};

using GpuKernel = std::function<Result<void>(const GpuOpContext&)>;

struct GpuLayerKernels {
    GpuKernel forward;
    GpuKernel backward;
};

// Called once per layer family from gpu/ops/<family>.cpp (the list is in layer_kernels.cpp).
void registerGpuKernels(const std::string& layerId, GpuLayerKernels kernels);
// nullptr when the layer has no Vulkan kernels.
const GpuLayerKernels* findGpuKernels(const std::string& layerId);

}  // namespace strata::gpu

#pragma once
// Runs one layer's Vulkan kernels (gpu/layer_kernels.h) and its CPU kernels on the same random
// inputs, weights and output gradients, and compares outputs, updated buffers (batch_norm's
// running statistics) and every gradient. Gradients start from random values on both sides, so
// a kernel that overwrites instead of adding (+=) fails. Outputs and aux start as NaN, so a
// kernel that leaves part of them unwritten fails too.
#include <string>
#include <vector>

#include "core/layers/param.h"
#include "core/tensor/shape.h"
#include "gpu_fixture.h"

namespace strata::gpu::test {

struct LayerCase {
    std::string type;
    Params params;                   // missing entries take their defaults
    std::vector<TensorType> inputs;  // batch-first shapes; the leading dim is replaced by batch
    int64_t batch = 2;
    bool training = true;
    int64_t intRange = 4;  // integer inputs are drawn from [0, intRange)
    double tol = 1e-4;     // max |gpu - cpu| / (1 + |cpu|)
    bool checkBackward = true;
    // Not 0: the device binds at most this many bytes at once while the kernels are recorded, as
    // a device with that maxStorageBufferRange would, so a small tensor exercises the paths that
    // split large ones across bindings.
    uint64_t maxBindingBytes = 0;
    // Not empty: the GPU kernels must refuse (in forward or backward) with a message containing
    // this text, instead of recording; what ran before the refusal is still compared.
    std::string refuses;
};

std::string describe(const LayerCase& c);  // "conv2d stride=2 (2,3,7,7)" for traces

class LayerKernelTest : public GpuTest {
protected:
    // Records forward (and backward) with the layer's Vulkan kernels and expects agreement with
    // the CPU kernels within c.tol. Returns how many tensors were compared (outputs, updated
    // buffers, gradients; an expected refusal counts as one), so a case that silently compares
    // nothing fails at its call.
    size_t expectMatchesCpu(const LayerCase& c);

private:
    void compare(const LayerCase& c, size_t& compared);
};

}  // namespace strata::gpu::test

#pragma once
// What a layer's CPU forward and backward see: views of concrete tensors owned by a backend.
// Conventions every layer follows:
// - forward writes outputs (and aux tensors it saves for backward) completely;
// - backward ADDS into gradInputs and gradWeights (+=), so gradients of a tensor that feeds
//   several consumers sum without extra ops; a gradInput with data == nullptr needs no gradient
//   (integer inputs, inputs from the dataset);
// - aux tensors are declared by the layer's shape rule (LayerInfo::aux) and survive from forward
//   to backward of the same step.
#include <cstdint>
#include <span>
#include <vector>

#include "core/layers/param.h"
#include "core/tensor/shape.h"

namespace strata {

struct TensorView {
    float* data = nullptr;
    Shape shape;  // concrete
    int64_t numel() const { return shape.numel(); }
    float& operator[](int64_t i) const { return data[i]; }
};

struct OpContext {
    const Params& params;
    bool training = true;
    uint64_t seed = 0;  // per step and node: dropout masks are regenerated from it in backward
    std::vector<TensorView> inputs;   // in input-port order; unconnected optional ports are empty
    std::vector<TensorView> outputs;  // in output-port order
    std::vector<TensorView> weights;  // in LayerInfo::weights order
    std::vector<TensorView> aux;      // in LayerInfo::aux order
    // Backward only:
    std::vector<TensorView> gradOutputs;
    std::vector<TensorView> gradInputs;
    std::vector<TensorView> gradWeights;
};

}  // namespace strata

#pragma once
// The single definition of a layer type. Everything else derives from LayerSpec: the palette,
// the inspector, canvas validation, the JSON reader, docs/layers.md, the layer test sweeps.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/engine/op_context.h"
#include "core/layers/param.h"
#include "core/tensor/shape.h"
#include "core/util/result.h"

namespace strata {

struct PortSpec {
    std::string name;
    std::string doc;
    bool optional = false;
};

// How a parameter tensor starts. Bounds are computed by the layer from its fan-in/fan-out so that
// they match PyTorch's default initialisation of the same module.
struct Init {
    enum class Kind { Zeros, Ones, Uniform, Normal, Sinusoidal };
    Kind kind = Kind::Zeros;
    double a = 0;  // Uniform: low; Normal: mean
    double b = 0;  // Uniform: high; Normal: std

    static Init zeros() { return {Kind::Zeros}; }
    static Init ones() { return {Kind::Ones}; }
    static Init uniform(double bound) { return {Kind::Uniform, -bound, bound}; }
    static Init normal(double mean, double std) { return {Kind::Normal, mean, std}; }
};

struct WeightSpec {
    std::string name;           // PyTorch state_dict name within the module ("weight_ih_l0")
    std::vector<int64_t> dims;  // PyTorch layout
    Init init;
    bool trainable = true;  // false for buffers such as running_mean
};

// A tensor the forward pass saves for backward (gate activations, attention probabilities...).
struct AuxSpec {
    std::string name;
    Shape shape;  // batched like the outputs
};

// One input as the shape rule sees it.
struct InputInfo {
    const TensorType* type = nullptr;  // nullptr when an optional port is unconnected
    std::string source;                // "'flatten1'" for messages
};

struct LayerContext {
    const Params& params;
    std::span<const InputInfo> inputs;  // in input-port order

    const Shape& shape(size_t i) const { return inputs[i].type->shape; }
    bool connected(size_t i) const { return inputs[i].type != nullptr; }
    // "but 'flatten1' gives (N, 256)"
    std::string gives(size_t i) const;
};

// Everything the shape rule derives for one node. FLOPs and sizes are per sample.
struct LayerInfo {
    std::vector<TensorType> outputs;
    std::vector<WeightSpec> weights;
    std::vector<AuxSpec> aux;
    int64_t flops = 0;  // forward, multiply-add counted as 2
};

using ShapeRule = std::function<Result<LayerInfo>(const LayerContext&)>;
using CpuKernel = std::function<void(const OpContext&)>;

struct LayerSpec {
    std::string id;        // stable JSON key, never renamed
    std::string label;     // "Conv 2D"
    std::string category;  // palette group
    std::string doc;       // one line
    std::vector<PortSpec> inputs;
    std::vector<PortSpec> outputs;
    std::vector<ParamSpec> params;
    // When set, the inputs are "in0".."in{k-1}" with k taken from this Int parameter.
    std::string variadicCountParam;
    bool isLoss = false;  // a loss node: scalar output, the graph's training objective
    ShapeRule infer;
    CpuKernel forward;   // may be empty until the engine implements the layer
    CpuKernel backward;

    std::vector<PortSpec> inputPorts(const Params& p) const;
    int inputIndex(const Params& p, const std::string& port) const;   // -1 if unknown
    int outputIndex(const std::string& port) const;                   // -1 if unknown
    const ParamSpec* param(const std::string& name) const;
    Params defaultParams() const;
    // Checks and completes params (defaults for missing ones); refuses unknown names.
    Result<Params> checkParams(const Params& given) const;
};

// Helpers for shape rules.
std::string shapeText(const Shape& s);
int64_t product(const std::vector<int64_t>& dims);

}  // namespace strata

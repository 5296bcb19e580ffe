#pragma once
// A compiled graph: every tensor of a training step with its concrete shape, kind and place in
// memory, the forward ops in topological order, the backward ops in reverse order, and the
// optimizer update over the parameter arena. A Program is plain data, shared by every backend;
// backends allocate what it describes and run its ops.
//
// Memory: parameters live in one arena (trainable ones first, then buffers such as running
// statistics), gradients in a second arena parallel to the trainable part, optimizer state in a
// third (one slot of trainableFloats per state tensor: Adam's exp_avg, exp_avg_sq...), and every
// batch-sized tensor (inputs, activations, aux, activation gradients, the loss) in an activation
// arena whose offsets come from tensor lifetimes, so tensors that are never alive together share
// memory.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/graph/graph.h"
#include "core/io/document.h"
#include "core/layers/layer_spec.h"
#include "core/util/result.h"

namespace strata {

using TensorId = StrongId<struct TensorTag>;

enum class TensorKind {
    Input,               // a dataset field written by setInput
    Parameter,           // a weight (trainable or a buffer)
    Gradient,            // d loss / d parameter
    OptimizerState,      // one slot over the whole trainable arena
    Activation,          // an op's output
    Aux,                 // saved by forward for backward (attention probabilities...)
    ActivationGradient,  // d loss / d activation
    Loss,                // the scalar objective
};

const char* tensorKindName(TensorKind k);

enum class Arena { Parameters, Gradients, OptimizerState, Activations };

struct ProgramTensor {
    TensorId id;
    std::string name;  // "fc1.out", "fc1.weight", "grad:fc1.weight", "fc1.aux:attention"
    TensorKind kind = TensorKind::Activation;
    DType dtype = DType::Float32;  // Int32 values are stored as exact floats on the CPU
    Shape shape;                   // concrete, with the compiled batch where batched
    bool batched = false;          // the leading dimension is the batch (views use the actual n)
    int64_t numel = 0;             // at the compiled batch
    Arena arena = Arena::Activations;
    int64_t offset = 0;  // in floats within its arena
    NodeId node;         // the node that owns it (producer or weight owner)
    std::string nodeName;
    std::string weightName;  // Parameter/Gradient: PyTorch name within the node
    bool trainable = false;  // Parameter: updated by the optimizer
    Init init;               // Parameter: how it starts
    TensorId gradient;       // its gradient tensor, when it has one
    // Lifetime in schedule positions (forward op i at i, backward op j at forwardCount + j);
    // Activations-arena tensors only. Pinned tensors live for the whole step (and after it, so
    // they can be read): inputs, the loss, the loss's inputs, attention maps.
    int firstUse = 0, lastUse = 0;
    bool pinned = false;

    Shape shapeAt(int64_t n) const;  // the shape with the actual batch n
    int64_t numelAt(int64_t n) const;
};

struct ProgramOp {
    NodeId node;
    std::string name;  // the node's name
    const LayerSpec* spec = nullptr;
    Params params;
    int forwardIndex = 0;           // backward ops: the forward op they differentiate
    std::vector<TensorId> inputs;   // input-port order; invalid for an unconnected optional port
    std::vector<TensorId> outputs;  // output-port order
    std::vector<TensorId> weights;  // LayerInfo::weights order
    std::vector<TensorId> aux;      // LayerInfo::aux order
    // Backward ops only; invalid ids mean "no gradient needed/kept" (data inputs, buffers).
    std::vector<TensorId> gradOutputs, gradInputs, gradWeights;
    // Activation gradients this backward op is the first to touch: zeroed before it runs,
    // because every backward adds (+=) into its gradInputs.
    std::vector<TensorId> zeroBefore;
};

struct InputBinding {
    std::string field;  // the dataset field, from the input node's `field` parameter
    NodeId node;
    TensorId tensor;
    DType dtype = DType::Float32;
    std::vector<int64_t> sampleShape;
};

struct CompileOptions {
    bool training = true;  // false: forward only (no loss needed, no gradients, no optimizer)
    OptimizerSettings optimizer;
    // Extra tensors (by name) to keep readable after a step.
    std::vector<std::string> keep;
};

struct Program {
    int64_t batch = 0;  // compiled (maximum) batch
    bool training = true;
    OptimizerSettings optimizer;
    std::vector<ProgramTensor> tensors;  // tensors[id.value - 1]
    std::vector<ProgramOp> forward;      // topological order (input nodes have no op)
    std::vector<ProgramOp> backward;     // reverse order
    std::vector<InputBinding> inputs;
    TensorId loss;                          // invalid when compiled without a loss
    TensorId lossGradient;                  // the seed of backward, set to 1
    int lossOp = -1;                        // index of the loss node's forward op
    std::vector<TensorId> parameters;       // Parameter tensors, in arena order
    std::vector<TensorId> optimizerState;   // one per slot
    int64_t parameterFloats = 0;            // size of the parameter arena
    int64_t trainableFloats = 0;            // its trainable prefix = size of the gradient arena
    int64_t activationFloats = 0;           // planned activation arena (the peak)
    int64_t unplannedActivationFloats = 0;  // what one buffer per tensor would need

    const ProgramTensor& tensor(TensorId id) const { return tensors[id.value - 1]; }
    ProgramTensor& tensor(TensorId id) { return tensors[id.value - 1]; }
    std::optional<TensorId> find(const std::string& name) const;
    // The output tensor of a node's port ("fc1", "out").
    std::optional<TensorId> output(const std::string& node, const std::string& port = "out") const;
    const InputBinding* input(const std::string& field) const;
    int positions() const { return static_cast<int>(forward.size() + backward.size()); }
};

// Compiles a graph whose shapes are valid. Refuses (with the analyzer's first problem) graphs
// that do not analyze, and for training graphs without exactly one loss that every node feeds.
Result<Program> compile(const Graph& graph, int64_t batch, const CompileOptions& options = {});

// Gives every Activations-arena tensor an offset from its lifetime (firstUse..lastUse) so that
// tensors alive at the same position never overlap, and sets activationFloats (the arena) and
// unplannedActivationFloats. compile() calls it; exposed for tests.
void planActivations(Program& p);

// The most Activations-arena floats alive at one schedule position (each tensor rounded up to
// the arena's alignment): no plan can need less.
int64_t peakLiveActivationFloats(const Program& p);

// Number of optimizer state slots (each trainableFloats long) an optimizer keeps.
int optimizerStateSlots(const OptimizerSettings& o);

// Initial parameter arena: each weight from its Init (PyTorch's default initialisation),
// deterministic in the seed on every platform. Padding between tensors is zero.
std::vector<float> initialParameters(const Program& p, uint64_t seed);

// Copies weights by node name and PyTorch name into the arena; refuses a shape mismatch.
// Weights absent from `weights` keep their arena values.
Result<void> loadWeights(const Program& p, const WeightSet& weights, std::vector<float>& arena);
WeightSet weightsFromArena(const Program& p, const std::vector<float>& arena);

// A per-step, per-node seed (dropout masks): a 64-bit mix of the step seed and the node id.
uint64_t opSeed(uint64_t stepSeed, NodeId node);

}  // namespace strata

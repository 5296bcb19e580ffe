#pragma once
// Runs a trained model on one sample on the CPU backend: compile(graph, batch 1, forward only),
// load the weights, apply the stored preprocessing (normalisation of float inputs), read the
// model's output (the loss's "input", or the graph's sink). The Try-it panel's engine; a
// Predictor in core/train can replace it behind the same interface.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/engine/backend.h"
#include "core/engine/program.h"
#include "core/io/document.h"
#include "core/util/result.h"

namespace strata::ui {

// What the Try-it panel runs: a graph with weights and the preprocessing it was trained with.
struct TrainedModel {
    Graph graph;
    WeightSet weights;
    Preprocessing preprocessing;
    std::string origin;  // "training run", "imported from digits.strata.json"
};

class ModelRunner {
public:
    enum class OutputKind {
        Classes,  // cross_entropy: softmax over the last dimension
        Binary,   // bce_with_logits: a sigmoid per output
        Raw,      // regression (mse) or no loss: the outputs as they are
    };
    struct Input {
        std::string field;
        std::vector<int64_t> shape;  // per sample
        DType dtype = DType::Float32;
    };

    // Refuses a graph that does not compile and weights that do not cover every parameter.
    static Result<std::unique_ptr<ModelRunner>> create(const TrainedModel& model);

    // The fields the model itself reads (loss targets excluded).
    const std::vector<Input>& inputs() const { return m_inputs; }
    const std::vector<int64_t>& outputShape() const { return m_outputShape; }  // per sample
    OutputKind kind() const { return m_kind; }
    const Preprocessing& preprocessing() const { return m_preprocessing; }

    // One sample: raw (not yet normalised) values of every model input field, by field. Returns
    // the output for that sample: probabilities for Classes (softmax over the last dimension) and
    // Binary (sigmoid), raw values otherwise.
    Result<std::vector<float>> run(const std::map<std::string, std::vector<float>>& raw);
    // The output before softmax/sigmoid of the last run (the logits).
    const std::vector<float>& lastLogits() const { return m_logits; }

private:
    ModelRunner() = default;
    Program m_program;
    std::unique_ptr<Backend> m_backend;
    std::vector<Input> m_inputs;
    TensorId m_output;
    std::vector<int64_t> m_outputShape;
    OutputKind m_kind = OutputKind::Raw;
    Preprocessing m_preprocessing;
    std::vector<float> m_logits;
};

}  // namespace strata::ui

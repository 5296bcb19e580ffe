#pragma once
// Runs a trained model on one sample on the CPU backend through core's Predictor (the same
// forward pass and stored preprocessing as `strata predict`), and turns the output into what the
// Try-it panel shows: class probabilities (softmax), sigmoid outputs or raw values.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/io/document.h"
#include "core/util/result.h"

namespace strata {
class Predictor;
}

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

    // Refuses a graph that does not compile, has no loss (which says what the output is), or
    // weights that do not cover every parameter.
    static Result<std::unique_ptr<ModelRunner>> create(const TrainedModel& model);
    ~ModelRunner();

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
    std::unique_ptr<Predictor> m_predictor;
    std::vector<Input> m_inputs;
    std::vector<int64_t> m_outputShape;
    OutputKind m_kind = OutputKind::Raw;
    Preprocessing m_preprocessing;
    std::vector<float> m_logits;
};

}  // namespace strata::ui

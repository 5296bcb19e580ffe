#pragma once
// Runs one layer's CPU forward and backward outside any graph, and checks the backward against
// central finite differences of a random projection of the outputs.
#include <random>
#include <string>
#include <vector>

#include "core/layers/registry.h"
#include "core/tensor/tensor.h"

namespace strata::test {

struct LayerRun {
    const LayerSpec* spec = nullptr;
    Params params;
    LayerInfo info;
    int64_t batch = 1;
    bool training = true;
    uint64_t seed = 1234;
    std::vector<Tensor> inputs, outputs, weights, aux;
    std::vector<DType> inputTypes;  // integer inputs get no gradient and are not perturbed
};

// Shape rule for concrete input shapes (batch-first, the batch made symbolic for the rule).
Result<LayerInfo> inferConcrete(const std::string& type, const Params& params,
                                const std::vector<TensorType>& batchedInputs);

// Builds a run: infers shapes, fills inputs (integer inputs with values in [0, intRange)) and
// weights with seeded random values. Fails the current test if the rule refuses.
LayerRun makeRun(const std::string& type, const Params& params,
                 const std::vector<TensorType>& inputs, int64_t batch, uint32_t seed = 7,
                 int64_t intRange = 4);

void forward(LayerRun& run);

struct Grads {
    std::vector<Tensor> inputs;   // an empty tensor for integer inputs
    std::vector<Tensor> weights;
};
// Backward of sum(outputs[k] * dy[k]).
Grads backward(LayerRun& run, const std::vector<Tensor>& dy);

// Compares analytic gradients with central differences for every float input and trainable
// weight. Returns the largest error found, relative to max(1, |numeric|).
double gradcheckMaxError(LayerRun run, double eps = 1e-2, uint32_t seed = 11);

// Moves values within `margin` of a kink (relu's 0, a max-pool tie...) away from it, so central
// differences do not straddle the kink.
void keepAwayFromKinks(Tensor& t, std::vector<float> kinks, float margin = 0.05f);

Tensor randomTensor(const Shape& s, std::mt19937& rng, float lo = -1.0f, float hi = 1.0f);

}  // namespace strata::test

#include <nlohmann/json.hpp>

namespace strata::test {

// Loads tests/fixtures/<family>.json (written by make_fixtures.py).
nlohmann::json loadFixtures(const std::string& family);

// Runs one fixture case through the layer's CPU forward and backward, with the fixture's inputs,
// weights (by PyTorch name; buffers such as running statistics included) and output gradients,
// and expects outputs and gradients within `tol` (absolute + relative). Weights the fixture does
// not name keep their random values; weights it names that the layer lacks fail the test.
void expectMatchesFixture(const nlohmann::json& fixtureCase, double tol = 1e-4);

}  // namespace strata::test

#pragma once
// Applies a model's preprocessing to the samples it reads: float input fields are normalised with
// statistics learned on the training split, so training, validation and prediction all see
// x' = (x - mean) / std exactly as the exported document records it.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/graph/graph.h"
#include "core/io/document.h"
#include "core/util/result.h"

namespace strata {

class NormalizedDataset : public Dataset {
public:
    NormalizedDataset(std::shared_ptr<const Dataset> parent,
                      std::map<std::string, Preprocessing::Normalization> normalization);
    int64_t size() const override { return m_parent->size(); }
    std::vector<FieldInfo> fields() const override { return m_fields; }
    void gather(std::span<const int64_t> indices, const std::string& field,
                float* out) const override;
    std::vector<std::string> classNames() const override { return m_parent->classNames(); }

private:
    std::shared_ptr<const Dataset> m_parent;
    std::map<std::string, Preprocessing::Normalization> m_normalization;
    std::vector<FieldInfo> m_fields;
};

// The fields the graph's input nodes take that feed the model itself, not only a loss's target
// port: these are the ones normalised (a regression target keeps its units).
std::vector<std::string> modelInputFields(const Graph& graph);

// Normalisation statistics for every Float32 model input field, computed on `train`.
Result<std::map<std::string, Preprocessing::Normalization>> learnNormalization(
    const Graph& graph, const Dataset& train);

// `data` with the normalisation applied, or `data` itself when there is none.
std::shared_ptr<const Dataset> applyNormalization(
    std::shared_ptr<const Dataset> data,
    const std::map<std::string, Preprocessing::Normalization>& normalization);

}  // namespace strata

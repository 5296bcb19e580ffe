#include "ui/try_it/model_runner.h"

#include <algorithm>
#include <cmath>

#include "core/data/tensor_dataset.h"
#include "core/layers/registry.h"
#include "core/train/predict.h"

namespace strata::ui {

ModelRunner::~ModelRunner() = default;

Result<std::unique_ptr<ModelRunner>> ModelRunner::create(const TrainedModel& model) {
    Document doc;
    doc.name = model.origin;
    doc.graph = model.graph;
    doc.weights = model.weights;
    doc.preprocessing = model.preprocessing;
    // One sample at a time on the CPU: the panel answers at once and never competes with a
    // training run for the GPU.
    auto predictor = Predictor::create(std::move(doc), {}, {.device = "cpu", .batchSize = 1});
    if (!predictor) return fail("the model " + predictor.message());

    std::unique_ptr<ModelRunner> r(new ModelRunner);
    r->m_predictor = std::move(*predictor);
    r->m_outputShape = r->m_predictor->outputShape();
    r->m_preprocessing = model.preprocessing;
    for (const FieldInfo& f : r->m_predictor->inputs()) {
        r->m_inputs.push_back({f.name, f.shape, f.dtype});
    }
    if (r->m_predictor->classes() > 0) {
        r->m_kind = OutputKind::Classes;
    } else {
        for (const auto& [id, n] : model.graph.nodes()) {
            if (n.type == "bce_with_logits") r->m_kind = OutputKind::Binary;
        }
    }
    return r;
}

Result<std::vector<float>> ModelRunner::run(const std::map<std::string, std::vector<float>>& raw) {
    std::map<std::string, Tensor> fields;
    std::map<std::string, DType> dtypes;
    for (const Input& in : m_inputs) {
        auto it = raw.find(in.field);
        if (it == raw.end()) return fail("no value for the model input '" + in.field + "'");
        std::vector<int64_t> dims = {1};
        dims.insert(dims.end(), in.shape.begin(), in.shape.end());
        Tensor t{Shape(dims)};
        if (it->second.size() != t.data.size()) {
            return fail("the input '" + in.field + "' needs " + std::to_string(t.data.size()) +
                        " values, not " + std::to_string(it->second.size()));
        }
        t.data = it->second;
        fields[in.field] = std::move(t);
        dtypes[in.field] = in.dtype;
    }
    auto sample = TensorDataset::create(std::move(fields), std::move(dtypes));
    if (!sample) return sample.error();
    auto predictions = m_predictor->run(*sample);
    if (!predictions) return predictions.error();
    if (predictions->samples.empty()) return fail("the model gave no output");
    m_logits = predictions->samples.front().output;
    std::vector<float> result = m_logits;
    if (m_kind == OutputKind::Classes && !m_outputShape.empty()) {
        const size_t classes = static_cast<size_t>(m_outputShape.back());
        for (size_t row = 0; row + classes <= result.size(); row += classes) {
            float* x = result.data() + row;
            const float top = *std::max_element(x, x + classes);
            double sum = 0;
            for (size_t c = 0; c < classes; ++c) sum += std::exp(double(x[c] - top));
            for (size_t c = 0; c < classes; ++c) {
                x[c] = static_cast<float>(std::exp(double(x[c] - top)) / sum);
            }
        }
    } else if (m_kind == OutputKind::Binary) {
        for (float& v : result) v = 1.0f / (1.0f + std::exp(-v));
    }
    return result;
}

}  // namespace strata::ui

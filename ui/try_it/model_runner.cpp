#include "ui/try_it/model_runner.h"

#include <algorithm>
#include <cmath>

#include "core/data/split.h"
#include "core/engine/cpu_backend.h"
#include "core/layers/registry.h"
#include "core/train/normalized_dataset.h"

namespace strata::ui {

Result<std::unique_ptr<ModelRunner>> ModelRunner::create(const TrainedModel& model) {
    const Graph& g = model.graph;
    // The output: what the loss judges, else the node nobody reads.
    std::string outputName, lossType;
    std::string outputPort = "out";
    for (const auto& [id, n] : g.nodes()) {
        const LayerSpec* spec = findLayer(n.type);
        if (!spec || !spec->isLoss) continue;
        if (const Link* l = g.linkInto(id, "input")) {
            outputName = g.node(l->from.node)->name;
            outputPort = l->from.port;
            lossType = n.type;
        }
    }
    if (outputName.empty()) {
        for (const auto& [id, n] : g.nodes()) {
            if (n.type != "input" && g.linksFrom(id).empty()) outputName = n.name;
        }
    }
    if (outputName.empty()) return fail("the graph has no output to show; add a layer after the input");

    CompileOptions options;
    options.training = false;
    options.keep = {outputName + "." + outputPort};
    auto program = compile(g, 1, options);
    if (!program) return fail("the model cannot run: " + program.message());

    std::unique_ptr<ModelRunner> r(new ModelRunner);
    r->m_program = std::move(*program);
    const Program& p = r->m_program;
    auto out = p.output(outputName, outputPort);
    if (!out) return fail("the model's output " + outputName + " is missing from the program");
    r->m_output = *out;
    const ProgramTensor& ot = p.tensor(*out);
    // Compiled shapes are concrete: drop the batch of 1.
    r->m_outputShape = ot.shape.dims();
    if (ot.batched && !r->m_outputShape.empty()) r->m_outputShape.erase(r->m_outputShape.begin());
    r->m_kind = lossType == "cross_entropy"     ? OutputKind::Classes
                : lossType == "bce_with_logits" ? OutputKind::Binary
                                                : OutputKind::Raw;
    r->m_preprocessing = model.preprocessing;

    const std::vector<std::string> modelFields = modelInputFields(g);
    for (const InputBinding& in : p.inputs) {
        if (std::find(modelFields.begin(), modelFields.end(), in.field) == modelFields.end()) {
            continue;
        }
        const bool seen = std::any_of(r->m_inputs.begin(), r->m_inputs.end(),
                                      [&](const Input& i) { return i.field == in.field; });
        if (!seen) r->m_inputs.push_back({in.field, in.sampleShape, in.dtype});
    }

    for (TensorId id : p.parameters) {
        const ProgramTensor& t = p.tensor(id);
        auto node = model.weights.find(t.nodeName);
        if (node == model.weights.end() || !node->second.count(t.weightName)) {
            return fail("the model has no trained value for " + t.nodeName + "." + t.weightName +
                        "; train it or import a trained model");
        }
    }
    std::vector<float> arena = initialParameters(p, 0);
    if (auto ok = loadWeights(p, model.weights, arena); !ok) {
        return fail("the trained weights do not fit the graph: " + ok.message());
    }
    r->m_backend = std::make_unique<CpuBackend>();
    if (auto ok = r->m_backend->prepare(r->m_program); !ok) return ok.error();
    if (auto ok = r->m_backend->uploadParameters(arena); !ok) return ok.error();
    return r;
}

Result<std::vector<float>> ModelRunner::run(const std::map<std::string, std::vector<float>>& raw) {
    for (const InputBinding& in : m_program.inputs) {
        int64_t size = 1;
        for (int64_t d : in.sampleShape) size *= d;
        std::vector<float> values(static_cast<size_t>(size), 0.0f);
        auto it = raw.find(in.field);
        if (it != raw.end()) {
            if (static_cast<int64_t>(it->second.size()) != size) {
                return fail("the input '" + in.field + "' needs " + std::to_string(size) +
                            " values, not " + std::to_string(it->second.size()));
            }
            values = it->second;
            auto norm = m_preprocessing.normalization.find(in.field);
            if (in.dtype == DType::Float32 && norm != m_preprocessing.normalization.end()) {
                normalizeBatch(norm->second, FieldInfo{in.field, in.sampleShape, in.dtype},
                               values.data(), 1);
            }
        } else {
            // Loss targets only: any valid class (0) lets the loss op run; its value is unused.
            const bool model = std::any_of(m_inputs.begin(), m_inputs.end(),
                                           [&](const Input& i) { return i.field == in.field; });
            if (model) return fail("no value for the model input '" + in.field + "'");
        }
        if (auto ok = m_backend->setInput(in.field, values, 1); !ok) return ok.error();
    }
    StepValues step;
    step.batch = 1;
    if (auto ok = m_backend->runForward(step, Mode::Eval); !ok) return ok.error();
    auto out = m_backend->download(m_output, 1);
    if (!out) return out.error();
    m_logits = *out;
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

#include "core/train/normalized_dataset.h"

#include <algorithm>

#include "core/data/split.h"
#include "core/layers/layer_spec.h"
#include "core/layers/param.h"
#include "core/layers/registry.h"

namespace strata {

NormalizedDataset::NormalizedDataset(
    std::shared_ptr<const Dataset> parent,
    std::map<std::string, Preprocessing::Normalization> normalization)
    : m_parent(std::move(parent)),
      m_normalization(std::move(normalization)),
      m_fields(m_parent->fields()) {}

void NormalizedDataset::gather(std::span<const int64_t> indices, const std::string& field,
                               float* out) const {
    m_parent->gather(indices, field, out);
    auto it = m_normalization.find(field);
    if (it == m_normalization.end()) return;
    for (const auto& f : m_fields) {
        if (f.name == field) {
            normalizeBatch(it->second, f, out, static_cast<int64_t>(indices.size()));
            return;
        }
    }
}

std::vector<std::string> modelInputFields(const Graph& graph) {
    std::vector<std::string> fields;
    for (const auto& [id, node] : graph.nodes()) {
        if (node.type != "input") continue;
        bool feedsModel = false;
        for (const Link* link : graph.linksFrom(id)) {
            const Node* to = graph.node(link->to.node);
            const LayerSpec* spec = to ? findLayer(to->type) : nullptr;
            if (!spec || !spec->isLoss) feedsModel = true;
        }
        const std::string& field = getString(node.params, "field");
        if (feedsModel && std::find(fields.begin(), fields.end(), field) == fields.end()) {
            fields.push_back(field);
        }
    }
    return fields;
}

Result<std::map<std::string, Preprocessing::Normalization>> learnNormalization(
    const Graph& graph, const Dataset& train) {
    std::map<std::string, Preprocessing::Normalization> out;
    for (const auto& name : modelInputFields(graph)) {
        auto f = train.field(name);
        if (!f || f->dtype != DType::Float32) continue;
        auto norm = computeNormalization(train, name);
        if (!norm) return norm.error();
        out.emplace(name, std::move(*norm));
    }
    return out;
}

std::shared_ptr<const Dataset> applyNormalization(
    std::shared_ptr<const Dataset> data,
    const std::map<std::string, Preprocessing::Normalization>& normalization) {
    if (!data || normalization.empty()) return data;
    return std::make_shared<NormalizedDataset>(std::move(data), normalization);
}

}  // namespace strata

#include "core/data/annotated_dataset.h"

#include <algorithm>
#include <cmath>

#include "core/data/split.h"

namespace strata {

Result<std::shared_ptr<AnnotatedDataset>> AnnotatedDataset::create(
    std::map<std::string, Tensor> fields, std::map<std::string, DType> dtypes,
    DatasetNotes notes) {
    // Values are checked before TensorDataset sees them, so no field can carry an id that an
    // embedding or a loss would index out of range.
    for (const auto& [name, t] : fields) {
        auto dt = dtypes.find(name);
        if (dt == dtypes.end() || dt->second != DType::Int32) continue;
        auto nc = notes.numClasses.find(name);
        for (size_t i = 0; i < t.data.size(); ++i) {
            const float v = t.data[i];
            if (!(v >= 0.0f) || v != std::floor(v) || v >= 16777216.0f ||
                (nc != notes.numClasses.end() && v >= static_cast<float>(nc->second))) {
                return fail("field '" + name + "' holds the value " + std::to_string(v) +
                            ", which is not a class or token id" +
                            (nc != notes.numClasses.end()
                                 ? " in 0.." + std::to_string(nc->second - 1)
                                 : std::string()));
            }
        }
    }
    auto data = TensorDataset::create(std::move(fields), dtypes);
    if (!data) return data.error();
    auto d = std::make_shared<AnnotatedDataset>();
    d->m_data = std::move(data).value();
    d->m_info = d->m_data.fields();
    for (FieldInfo& f : d->m_info) {
        auto nc = notes.numClasses.find(f.name);
        if (nc != notes.numClasses.end()) f.numClasses = nc->second;
    }
    d->m_notes = std::move(notes);
    return d;
}

void AnnotatedDataset::gather(std::span<const int64_t> indices, const std::string& field,
                              float* out) const {
    m_data.gather(indices, field, out);
}

std::vector<std::string> datasetVocabulary(const Dataset& dataset) {
    if (auto* a = dynamic_cast<const AnnotatedDataset*>(&dataset)) return a->vocabulary();
    if (auto* s = dynamic_cast<const SubsetDataset*>(&dataset)) {
        return datasetVocabulary(*s->parent());
    }
    return {};
}

}  // namespace strata

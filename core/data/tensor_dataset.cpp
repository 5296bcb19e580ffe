#include "core/data/tensor_dataset.h"

#include <algorithm>
#include <cstring>

namespace strata {

std::optional<FieldInfo> Dataset::field(const std::string& name) const {
    for (auto& f : fields()) {
        if (f.name == name) return f;
    }
    return std::nullopt;
}

Result<TensorDataset> TensorDataset::create(std::map<std::string, Tensor> fields,
                                            std::map<std::string, DType> dtypes) {
    TensorDataset d;
    bool first = true;
    for (auto& [name, t] : fields) {
        if (t.shape.rank() < 1) return fail("field '" + name + "' has no sample dimension");
        if (first) d.m_size = t.shape[0];
        if (t.shape[0] != d.m_size) {
            return fail("field '" + name + "' has " + std::to_string(t.shape[0]) +
                        " samples but the others have " + std::to_string(d.m_size));
        }
        first = false;
        FieldInfo info;
        info.name = name;
        info.shape = {t.shape.dims().begin() + 1, t.shape.dims().end()};
        auto it = dtypes.find(name);
        info.dtype = it == dtypes.end() ? DType::Float32 : it->second;
        if (info.dtype == DType::Int32 && !t.data.empty()) {
            info.numClasses =
                static_cast<int64_t>(*std::max_element(t.data.begin(), t.data.end())) + 1;
        }
        d.m_info.push_back(info);
    }
    d.m_data = std::move(fields);
    return d;
}

void TensorDataset::gather(std::span<const int64_t> indices, const std::string& field,
                           float* out) const {
    const Tensor& t = m_data.at(field);
    const int64_t per = m_size ? t.numel() / m_size : 0;
    for (size_t i = 0; i < indices.size(); ++i) {
        std::memcpy(out + static_cast<int64_t>(i) * per, t.ptr() + indices[i] * per,
                    sizeof(float) * static_cast<size_t>(per));
    }
}

TensorDataset TensorDataset::subset(std::span<const int64_t> indices) const {
    TensorDataset d;
    d.m_size = static_cast<int64_t>(indices.size());
    d.m_info = m_info;
    for (const auto& [name, t] : m_data) {
        std::vector<int64_t> dims = t.shape.dims();
        dims[0] = d.m_size;
        Tensor s{Shape(dims)};
        gather(indices, name, s.ptr());
        d.m_data.emplace(name, std::move(s));
    }
    return d;
}

}  // namespace strata

#pragma once
// A dataset held in memory as one host tensor per field (first dimension = samples). Used by
// tests, synthetic sets and as the cache that file readers fill.
#include <map>

#include "core/data/dataset.h"
#include "core/tensor/tensor.h"
#include "core/util/result.h"

namespace strata {

class TensorDataset : public Dataset {
public:
    // Every tensor's first dimension is the sample count, equal across fields.
    static Result<TensorDataset> create(std::map<std::string, Tensor> fields,
                                        std::map<std::string, DType> dtypes = {});

    int64_t size() const override { return m_size; }
    std::vector<FieldInfo> fields() const override { return m_info; }
    void gather(std::span<const int64_t> indices, const std::string& field,
                float* out) const override;

    // The samples at `indices`, as a new in-memory dataset (train/validation splits).
    TensorDataset subset(std::span<const int64_t> indices) const;

private:
    int64_t m_size = 0;
    std::vector<FieldInfo> m_info;
    std::map<std::string, Tensor> m_data;
};

}  // namespace strata

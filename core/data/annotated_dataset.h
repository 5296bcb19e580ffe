#pragma once
// An in-memory dataset plus what cannot be inferred from the values alone: the number of classes
// of each Int32 field (a small file need not hold every class), class names and the token
// vocabulary. Every reader and built-in set returns one; Preprocessing stores the names.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/data/tensor_dataset.h"
#include "core/util/result.h"

namespace strata {

struct DatasetNotes {
    std::map<std::string, int64_t> numClasses;  // by Int32 field; else max value + 1
    std::vector<std::string> classNames;        // class index -> name
    std::vector<std::string> vocabulary;        // token id -> text
};

class AnnotatedDataset : public Dataset {
public:
    // Every tensor's first dimension is the sample count. Int32 fields must hold whole numbers
    // in [0, numClasses).
    static Result<std::shared_ptr<AnnotatedDataset>> create(std::map<std::string, Tensor> fields,
                                                            std::map<std::string, DType> dtypes,
                                                            DatasetNotes notes = {});

    int64_t size() const override { return m_data.size(); }
    std::vector<FieldInfo> fields() const override { return m_info; }
    void gather(std::span<const int64_t> indices, const std::string& field,
                float* out) const override;
    std::vector<std::string> classNames() const override { return m_notes.classNames; }
    const std::vector<std::string>& vocabulary() const { return m_notes.vocabulary; }

private:
    TensorDataset m_data;
    DatasetNotes m_notes;
    std::vector<FieldInfo> m_info;
};

// The token vocabulary of a dataset that has one (text, token tasks, and their splits); empty
// otherwise.
std::vector<std::string> datasetVocabulary(const Dataset& dataset);

}  // namespace strata

#pragma once
// What the Trainer reads samples from. A dataset is a table: size() samples, each with the same
// named fields ("image", "label", "tokens"...). Graph input nodes name the field they take.
// Readers (IDX, CIFAR, CSV, text) and the built-in sets implement this interface.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/tensor/shape.h"

namespace strata {

struct FieldInfo {
    std::string name;              // "image"
    std::vector<int64_t> shape;    // per sample, without the batch: {1, 28, 28}; {} for a scalar
    DType dtype = DType::Float32;  // Int32: class labels and token ids, carried as exact floats
    int64_t numClasses = 0;        // Int32 fields: values lie in [0, numClasses); 0 if unknown
    int64_t sampleSize() const {
        int64_t n = 1;
        for (int64_t d : shape) n *= d;
        return n;
    }
};

class Dataset {
public:
    virtual ~Dataset() = default;
    virtual int64_t size() const = 0;
    virtual std::vector<FieldInfo> fields() const = 0;
    // Writes the field of each listed sample, one after another, into out
    // (indices.size() * sampleSize floats). Indices are in [0, size()). Must be safe to call
    // from the Trainer's worker thread while no other thread uses the dataset.
    virtual void gather(std::span<const int64_t> indices, const std::string& field,
                        float* out) const = 0;

    std::optional<FieldInfo> field(const std::string& name) const;
    // Class names for classifiers, by label value; empty when unknown.
    virtual std::vector<std::string> classNames() const { return {}; }
};

}  // namespace strata

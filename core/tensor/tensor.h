#pragma once
// A host tensor: a concrete shape and float32 data in row-major order. Integer inputs (token ids,
// labels) are carried as floats holding exact integers, which is exact below 2^24.
#include <vector>

#include "core/tensor/shape.h"

namespace strata {

struct Tensor {
    Shape shape;              // concrete: no symbolic batch
    std::vector<float> data;  // shape.numel() values

    Tensor() = default;
    explicit Tensor(Shape s, float fill = 0.0f)
        : shape(std::move(s)), data(static_cast<size_t>(shape.numel()), fill) {}
    Tensor(Shape s, std::vector<float> values) : shape(std::move(s)), data(std::move(values)) {}

    int64_t numel() const { return static_cast<int64_t>(data.size()); }
    float* ptr() { return data.data(); }
    const float* ptr() const { return data.data(); }
    bool operator==(const Tensor&) const = default;
};

}  // namespace strata

#pragma once
// Shape of a tensor flowing along a link. The leading batch dimension is symbolic during editing
// (kBatch, printed "N"); every other dimension is concrete.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace strata {

enum class DType { Float32, Int32 };

const char* dtypeName(DType t);

class Shape {
public:
    static constexpr int64_t kBatch = -1;

    Shape() = default;
    Shape(std::initializer_list<int64_t> dims) : m_dims(dims) {}
    explicit Shape(std::vector<int64_t> dims) : m_dims(std::move(dims)) {}

    // A batched shape: (N, dims...).
    static Shape batched(std::vector<int64_t> sampleDims);

    int rank() const { return static_cast<int>(m_dims.size()); }
    int64_t operator[](int i) const { return m_dims[static_cast<size_t>(i < 0 ? i + rank() : i)]; }
    const std::vector<int64_t>& dims() const { return m_dims; }
    bool isBatched() const { return !m_dims.empty() && m_dims[0] == kBatch; }
    // Product of the concrete dimensions (the per-sample size when the batch is symbolic).
    int64_t numel() const;
    // The dims after the batch dimension.
    std::vector<int64_t> sampleDims() const;
    // The same shape with the symbolic batch replaced by n.
    Shape withBatch(int64_t n) const;

    std::string str() const;  // "(N, 3, 32, 32)"
    bool operator==(const Shape&) const = default;

private:
    std::vector<int64_t> m_dims;
};

// What a port carries: its shape and element type.
struct TensorType {
    Shape shape;
    DType dtype = DType::Float32;
    bool operator==(const TensorType&) const = default;
};

}  // namespace strata

#include "core/tensor/shape.h"

namespace strata {

const char* dtypeName(DType t) { return t == DType::Float32 ? "float32" : "int32"; }

Shape Shape::batched(std::vector<int64_t> sampleDims) {
    sampleDims.insert(sampleDims.begin(), kBatch);
    return Shape(std::move(sampleDims));
}

int64_t Shape::numel() const {
    int64_t n = 1;
    for (int64_t d : m_dims) {
        if (d != kBatch) n *= d;
    }
    return n;
}

std::vector<int64_t> Shape::sampleDims() const {
    if (!isBatched()) return m_dims;
    return {m_dims.begin() + 1, m_dims.end()};
}

Shape Shape::withBatch(int64_t n) const {
    Shape s = *this;
    for (int64_t& d : s.m_dims) {
        if (d == kBatch) d = n;
    }
    return s;
}

std::string Shape::str() const {
    std::string s = "(";
    for (size_t i = 0; i < m_dims.size(); ++i) {
        if (i) s += ", ";
        s += m_dims[i] == kBatch ? "N" : std::to_string(m_dims[i]);
    }
    if (m_dims.size() == 1) s += ",";
    return s + ")";
}

}  // namespace strata

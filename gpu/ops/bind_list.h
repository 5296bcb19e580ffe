#pragma once
// Collects one dispatch's bindings in kernel order. Each operand is bound from the aligned byte
// below it (bindFloats) and add() returns the element offset the kernel adds (a push constant).
// The first failure is kept and reported by status(), so a kernel's setup reads as a list.
#include <optional>
#include <string>
#include <vector>

#include "gpu/ops/common.h"

namespace strata::gpu::ops {

class BindList {
public:
    explicit BindList(const Device& device) : m_device(device) {}

    // `used`: exactly the floats the kernel touches (hazards are tracked on them).
    uint32_t add(const BufferRange& used, Access access, const char* what) {
        if (m_error) return 0;
        auto bound = bindFloats(m_device, used, what);
        if (!bound) {
            m_error = bound.error();
            return 0;
        }
        m_bindings.push_back({bound->range, access, used});
        return bound->offset;
    }
    // Operand when present, else a placeholder the kernel leaves alone (an absent gradient).
    // Needs an earlier add() to borrow a valid descriptor from.
    uint32_t addOptional(const BufferRange& used, Access access, const char* what) {
        if (!used.empty()) return add(used, access, what);
        if (m_error) return 0;
        m_bindings.push_back({m_bindings.front().range, Access::Unused, {}});
        return 0;
    }

    Result<void> status() const {
        if (m_error) return *m_error;
        return {};
    }
    const std::vector<Binding>& bindings() const { return m_bindings; }

private:
    const Device& m_device;
    std::vector<Binding> m_bindings;
    std::optional<Error> m_error;
};

}  // namespace strata::gpu::ops

#pragma once
// Collects one dispatch's bindings in kernel order. Each operand is bound from the aligned byte
// below it (bindFloats) and add() returns the element offset the kernel adds (a push constant).
// An empty operand (an absent gradient, an unused dropout seed) becomes a placeholder the kernel
// leaves alone. The first failure is kept and reported by status(), so a kernel's setup reads as
// a list.
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gpu/ops/common.h"

namespace strata::gpu::ops {

class BindList {
public:
    explicit BindList(const Device& device) : m_device(device) {}

    // `used`: exactly the floats the kernel touches (hazards are tracked on them).
    uint32_t add(const BufferRange& used, Access access, const char* what) {
        if (used.empty()) {
            m_bindings.push_back({BufferRange{}, Access::Unused, {}});
            return 0;
        }
        auto bound = bindFloats(m_device, used, what);
        if (!bound) {
            if (!m_error) m_error = bound.error();
            m_bindings.push_back({BufferRange{}, Access::Unused, {}});
            return 0;
        }
        m_bindings.push_back({bound->range, access, used});
        return bound->offset;
    }
    uint32_t addOptional(const BufferRange& used, Access access, const char* what) {
        return add(used, access, what);
    }

    Result<void> status() const {
        if (m_error) return *m_error;
        if (!m_bindings.empty() && !present()) return fail("A dispatch binds no operand at all.");
        return {};
    }
    // Placeholders borrow a real operand's descriptor range (a descriptor must name a buffer).
    std::span<const Binding> bindings() {
        for (auto& b : m_bindings) {
            if (b.range.empty()) b.range = firstPresent();
        }
        return m_bindings;
    }

private:
    bool present() const { return !firstPresent().empty(); }
    BufferRange firstPresent() const {
        for (const auto& b : m_bindings) {
            if (!b.range.empty()) return b.range;
        }
        return {};
    }

    const Device& m_device;
    std::vector<Binding> m_bindings;
    std::optional<Error> m_error;
};

}  // namespace strata::gpu::ops

#pragma once
// Strong ids: a NodeId never converts to a LinkId, and neither converts to an integer silently.
#include <compare>
#include <cstdint>
#include <functional>

namespace strata {

template <class Tag>
struct StrongId {
    uint32_t value = 0;  // 0 is "none"
    constexpr StrongId() = default;
    constexpr explicit StrongId(uint32_t v) : value(v) {}
    constexpr bool valid() const { return value != 0; }
    constexpr auto operator<=>(const StrongId&) const = default;
};

using NodeId = StrongId<struct NodeTag>;
using LinkId = StrongId<struct LinkTag>;

}  // namespace strata

template <class Tag>
struct std::hash<strata::StrongId<Tag>> {
    size_t operator()(strata::StrongId<Tag> id) const noexcept { return id.value; }
};

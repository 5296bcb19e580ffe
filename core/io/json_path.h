#pragma once
// JSON Pointer paths (RFC 6901) for fault messages: "/graph/nodes/3/params/kernel_size".
#include <cstddef>
#include <string>
#include <string_view>

namespace strata::io {

class JsonPath {
public:
    JsonPath() = default;

    JsonPath operator/(std::string_view key) const {
        JsonPath p = *this;
        p.m_text += '/';
        for (char c : key) {
            // RFC 6901 escapes, so a key holding '/' cannot fake a deeper path.
            if (c == '~') p.m_text += "~0";
            else if (c == '/') p.m_text += "~1";
            else p.m_text += c;
        }
        return p;
    }
    JsonPath operator/(size_t index) const {
        return *this / std::string_view(std::to_string(index));
    }

    // "/" for the document itself, as JSON Pointer writes the root as "".
    std::string str() const { return m_text.empty() ? "/" : m_text; }

private:
    std::string m_text;
};

}  // namespace strata::io

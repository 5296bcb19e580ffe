#include "core/io/weights_codec.h"

#include <array>
#include <bit>
#include <cstdint>

namespace strata::io {

namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> makeReverse() {
    std::array<int8_t, 256> r{};
    for (auto& v : r) v = -1;
    for (int i = 0; i < 64; ++i) r[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
    return r;
}
constexpr std::array<int8_t, 256> kReverse = makeReverse();

std::string charText(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
    constexpr char hex[] = "0123456789abcdef";
    return std::string("byte 0x") + hex[u >> 4] + hex[u & 15];
}

}  // namespace

std::string base64Encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const uint32_t v = static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 16 |
                           static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 8 |
                           static_cast<uint8_t>(bytes[i + 2]);
        out += kAlphabet[v >> 18 & 63];
        out += kAlphabet[v >> 12 & 63];
        out += kAlphabet[v >> 6 & 63];
        out += kAlphabet[v & 63];
    }
    const size_t rest = bytes.size() - i;
    if (rest > 0) {
        uint32_t v = static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 16;
        if (rest == 2) v |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 8;
        out += kAlphabet[v >> 18 & 63];
        out += kAlphabet[v >> 12 & 63];
        out += rest == 2 ? kAlphabet[v >> 6 & 63] : '=';
        out += '=';
    }
    return out;
}

Result<std::string> base64Decode(std::string_view text) {
    if (text.size() % 4 != 0) {
        return fail("is not valid base64: its length " + std::to_string(text.size()) +
                    " is not a multiple of 4");
    }
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        int pad = 0;
        uint32_t v = 0;
        for (size_t k = 0; k < 4; ++k) {
            const char c = text[i + k];
            if (c == '=' && last && k >= 2) {
                ++pad;
                v <<= 6;
                continue;
            }
            const int8_t d = kReverse[static_cast<uint8_t>(c)];
            if (d < 0 || pad > 0) {
                return fail("is not valid base64: " + charText(c) + " at offset " +
                            std::to_string(i + k));
            }
            v = v << 6 | static_cast<uint32_t>(d);
        }
        out += static_cast<char>(v >> 16 & 255);
        if (pad < 2) out += static_cast<char>(v >> 8 & 255);
        if (pad < 1) out += static_cast<char>(v & 255);
    }
    return out;
}

std::string encodeFloats(const std::vector<float>& values) {
    std::string bytes(values.size() * 4, '\0');
    for (size_t i = 0; i < values.size(); ++i) {
        const auto u = std::bit_cast<uint32_t>(values[i]);
        for (size_t b = 0; b < 4; ++b) bytes[i * 4 + b] = static_cast<char>(u >> (8 * b) & 255);
    }
    return base64Encode(bytes);
}

Result<std::vector<float>> decodeFloats(std::string_view base64) {
    auto bytes = base64Decode(base64);
    if (!bytes) return bytes.error();
    if (bytes->size() % 4 != 0) {
        return fail("decodes to " + std::to_string(bytes->size()) +
                    " bytes, which is not a whole number of float32 values (4 bytes each)");
    }
    std::vector<float> values(bytes->size() / 4);
    for (size_t i = 0; i < values.size(); ++i) {
        uint32_t u = 0;
        for (size_t b = 0; b < 4; ++b) {
            u |= static_cast<uint32_t>(static_cast<uint8_t>((*bytes)[i * 4 + b])) << (8 * b);
        }
        values[i] = std::bit_cast<float>(u);
    }
    return values;
}

}  // namespace strata::io

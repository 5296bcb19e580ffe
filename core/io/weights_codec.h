#pragma once
// The weight encoding of documents: float32 values as little-endian bytes, in base64 (RFC 4648,
// standard alphabet, with padding). Binary keeps every bit, NaN payloads and infinities included,
// and is about 4x smaller than decimal text.
#include <string>
#include <string_view>
#include <vector>

#include "core/util/result.h"

namespace strata::io {

std::string encodeFloats(const std::vector<float>& values);
// Refuses characters outside the alphabet, misplaced padding, a length that is not a multiple
// of 4, and a byte count that is not a multiple of 4 (a float32 is 4 bytes).
Result<std::vector<float>> decodeFloats(std::string_view base64);

std::string base64Encode(std::string_view bytes);
Result<std::string> base64Decode(std::string_view text);

}  // namespace strata::io

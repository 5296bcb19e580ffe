#pragma once
// Older document versions load through a chain of migrations, one function per version step
// (vN -> vN+1) working on the JSON, so the reader itself only ever knows the current version.
#include <functional>
#include <vector>

#include <nlohmann/json.hpp>

namespace strata::io {

// migrations()[n] turns a version-n document into a version-(n+1) one. A migration rewrites only
// what it recognises and never throws; whatever it leaves malformed is refused by the reader.
using Migration = std::function<void(nlohmann::json& doc)>;
const std::vector<Migration>& migrations();

// The oldest version the reader accepts (the first migration's source).
int oldestReadableVersion();

// Applies migrations from `fromVersion` up to kFormatVersion and sets "version".
void migrate(nlohmann::json& doc, int fromVersion);

}  // namespace strata::io

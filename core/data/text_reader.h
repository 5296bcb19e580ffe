#pragma once
// Plain UTF-8 text for character language models: the vocabulary is the sorted set of distinct
// characters (code points), and the text is cut into windows of "window" characters (default
// 64) every "stride" characters (default: the window, so windows do not overlap) -> "tokens"
// (Int32, (T)) and "target" (Int32, (T)): the character after each token.
// Option "vocabulary" (an array of one-character strings, e.g. the one stored with a trained
// model) fixes the ids instead; a character outside it is refused.
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/data/annotated_dataset.h"

namespace strata {

Result<std::shared_ptr<AnnotatedDataset>> readText(const std::filesystem::path& path,
                                                   const nlohmann::json& options = {});

}  // namespace strata

#pragma once
// CSV tables -> "x" (F numeric features) and either "label" (Int32 classes) or, with
// "regression": true, "target" (K floats).
//
// Options: "label_column" (a header name or a 0-based index, negative from the end; default the
// last column; false for none; an array of them for several regression targets), "regression"
// (false), "header" (detected: a first row with text where the second row has numbers),
// "delimiter" (detected among , ; and tab), "ignore_columns" (names or indices), "class_names"
// (a fixed class order, e.g. the one stored with a trained model).
// Labels that are all whole numbers >= 0 are class indices; any other labels are class names,
// numbered in sorted order. Columns that hold no number at all (ids, free text) are skipped;
// a column with a stray word among numbers is refused with its line.
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/data/annotated_dataset.h"

namespace strata {

Result<std::shared_ptr<AnnotatedDataset>> readCsv(const std::filesystem::path& path,
                                                  const nlohmann::json& options = {});

}  // namespace strata

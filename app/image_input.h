#pragma once
// Decodes an image file (PNG, JPEG, BMP) into one sample for a model whose input is (C, H, W)
// with C 1 (grey) or 3 (RGB): resized to H x W, values scaled to [0, 1] like the IDX reader.
// Decoding needs Qt's image support; a build without Qt 6 Gui refuses with a sentence.
#include <filesystem>
#include <memory>

#include "core/data/dataset.h"
#include "core/util/result.h"

namespace strata::app {

// `input` is the model's input field (its name and per-sample shape).
Result<std::shared_ptr<const Dataset>> readImageInput(const std::filesystem::path& file,
                                                      const FieldInfo& input);

}  // namespace strata::app

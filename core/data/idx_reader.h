#pragma once
// MNIST / Fashion-MNIST IDX files, plain or gzip: an images file (N, H, W unsigned bytes) and a
// labels file (N unsigned bytes) -> fields "image" (1, H, W) scaled to [0, 1] and "label"
// (Int32, at least 10 classes).
#include <filesystem>
#include <memory>

#include "core/data/annotated_dataset.h"

namespace strata {

// labels may be empty: the images alone (prediction inputs).
Result<std::shared_ptr<AnnotatedDataset>> readIdx(const std::filesystem::path& images,
                                                  const std::filesystem::path& labels);

// The labels file that sits beside an images file by the MNIST naming
// (train-images-idx3-ubyte.gz -> train-labels-idx1-ubyte.gz); empty when the name has no
// "images" part.
std::filesystem::path idxLabelsBeside(const std::filesystem::path& images);

}  // namespace strata

#pragma once
// CIFAR-10 binary batches (data_batch_1.bin ... test_batch.bin): records of 1 label byte and
// 3072 pixel bytes (1024 red, 1024 green, 1024 blue, row-major 32x32) -> "image" (3, 32, 32) in
// [0, 1] and "label" (Int32, 10 classes). Class names come from batches.meta.txt when it sits
// beside the first batch.
#include <filesystem>
#include <memory>
#include <vector>

#include "core/data/annotated_dataset.h"

namespace strata {

Result<std::shared_ptr<AnnotatedDataset>> readCifar10(
    const std::vector<std::filesystem::path>& batches);

// The batches of a CIFAR-10 folder: "train" -> data_batch_*.bin in name order, "test" ->
// test_batch.bin. Refuses a folder that has none.
Result<std::vector<std::filesystem::path>> cifar10Batches(const std::filesystem::path& folder,
                                                          const std::string& split);

}  // namespace strata

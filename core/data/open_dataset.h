#pragma once
// From a document's dataset binding to a Dataset: dispatches on the format ("builtin", "idx",
// "cifar10", "csv", "text", or one registered by the UI such as "image_folder") and resolves the
// source relative to the document's folder.
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/data/dataset.h"
#include "core/io/document.h"
#include "core/util/result.h"

namespace strata {

// Source forms: "builtin:NAME"; idx: the images file (option "labels" names the labels file,
// else the MNIST name beside it) or a folder with option "split" train|test; cifar10: one batch
// file or the batches folder with option "split" train|test; csv and text: the file.
// An empty format is inferred from the source (builtin: prefix, .csv, .txt, .bin, idx names).
Result<std::shared_ptr<Dataset>> openDataset(const DatasetBinding& binding,
                                             const std::filesystem::path& documentDir);

// The same for one source (DatasetBinding's fields without the split), e.g. a separate
// validation file.
Result<std::shared_ptr<Dataset>> openDatasetSource(const std::string& source,
                                                   const std::string& format,
                                                   const nlohmann::json& options,
                                                   const std::filesystem::path& documentDir);

// Formats read outside core (image folders decode with Qt): the UI registers their reader.
// The opener receives the resolved path and the binding's options.
using DatasetOpener = std::function<Result<std::shared_ptr<Dataset>>(
    const std::filesystem::path& source, const nlohmann::json& options)>;
void registerDatasetFormat(const std::string& format, DatasetOpener opener);

// What a dataset carries that a trained model must keep: class names and token vocabulary
// (normalisation comes from computeNormalization on the training split).
Preprocessing datasetPreprocessing(const Dataset& dataset);

}  // namespace strata

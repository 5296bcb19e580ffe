#pragma once
// Built-in data sets: no download, deterministic from their options (each has "count" and
// "seed" where it is generated).
//   digits      the real 8x8 handwritten digits (samples/data/digits.csv.gz): "image" (1, 8, 8)
//               in [0, 1], "label" (10 classes); 1,797 samples.
//   digits32    the same, resized to (1, 32, 32) bilinearly (for LeNet-5).
//   shapes      coloured shapes "image" (3, 32, 32) in [0, 1], "label" (10 classes, balanced).
//   regression  "x" (10) ~ N(0, 1), "target" (10): a fixed linear map, a mild nonlinearity,
//               small noise.
//   sine        "x" (T, F) sine channels with random amplitude/frequency/phase, "target" (F)
//               the next step.
//   reverse, sort, copy
//               "tokens" (T) ids in 1..V-1 (0 is reserved for padding), "target" (T) the
//               reversed, sorted or copied sequence; V classes.
//   tiny_corpus the character corpus samples/data/tiny_corpus.txt, read as "text".
//   random      the fields the option "fields" describes, each {shape, dtype, distribution}:
//               normal (mean, std), uniform (low, high), uniform_int (low, high exclusive) or
//               next_token (of: a uniform_int field drawn as windows one token longer; this
//               field is the window shifted by one). The benchmarks' data (bench/workloads.md).
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/data/annotated_dataset.h"

namespace strata {

std::vector<std::string> builtinNames();

Result<std::shared_ptr<AnnotatedDataset>> openBuiltin(const std::string& name,
                                                      const nlohmann::json& options,
                                                      const std::filesystem::path& documentDir);

namespace builtin {
// side: 8 (the original digits) or 32 (resized)
Result<std::shared_ptr<AnnotatedDataset>> digits(const nlohmann::json& options,
                                                 const std::filesystem::path& documentDir,
                                                 int side);
Result<std::shared_ptr<AnnotatedDataset>> shapes(const nlohmann::json& options);
Result<std::shared_ptr<AnnotatedDataset>> regression(const nlohmann::json& options);
Result<std::shared_ptr<AnnotatedDataset>> sine(const nlohmann::json& options);
Result<std::shared_ptr<AnnotatedDataset>> random(const nlohmann::json& options);
// task: "reverse", "sort" or "copy"
Result<std::shared_ptr<AnnotatedDataset>> tokenTask(const std::string& task,
                                                    const nlohmann::json& options);
// The names of the ten shapes, by label.
const std::vector<std::string>& shapeNames();
}  // namespace builtin

}  // namespace strata

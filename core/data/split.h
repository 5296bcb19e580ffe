#pragma once
// Train / validation / test splits, the per-epoch sample order, and normalisation statistics
// learned from the training split only (so validation figures never see validation data).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "core/data/dataset.h"
#include "core/io/document.h"
#include "core/util/result.h"

namespace strata {

// A view of some samples of another dataset, in the given order; shares its parent's memory.
class SubsetDataset : public Dataset {
public:
    SubsetDataset(std::shared_ptr<const Dataset> parent, std::vector<int64_t> indices);

    int64_t size() const override { return static_cast<int64_t>(m_indices.size()); }
    std::vector<FieldInfo> fields() const override { return m_parent->fields(); }
    void gather(std::span<const int64_t> indices, const std::string& field,
                float* out) const override;
    std::vector<std::string> classNames() const override { return m_parent->classNames(); }

    const std::shared_ptr<const Dataset>& parent() const { return m_parent; }
    const std::vector<int64_t>& indices() const { return m_indices; }  // into the parent

private:
    std::shared_ptr<const Dataset> m_parent;
    std::vector<int64_t> m_indices;
};

struct DataSplits {
    std::shared_ptr<Dataset> train, validation, test;  // never null; validation/test may be empty
};

// Draws round(n * validationFraction) validation and round(n * testFraction) test samples at
// random from the seed; the rest train. Each part keeps the dataset's order. Refuses fractions
// outside [0, 1) or leaving no training sample.
Result<DataSplits> splitDataset(std::shared_ptr<const Dataset> all, double validationFraction,
                                double testFraction, uint64_t seed);

// Opens the binding's data and splits it. Options "validation_source" / "test_source" (paths
// relative to the document, same format and options) give separate files instead of fractions;
// their fields must match the training data's.
Result<DataSplits> openSplits(const DatasetBinding& binding,
                              const std::filesystem::path& documentDir);

// The order in which an epoch visits n samples: a permutation that depends only on (seed,
// epoch), so a resumed run replays the same batches.
std::vector<int64_t> epochOrder(int64_t n, uint64_t seed, int64_t epoch);

// Mean and standard deviation of a Float32 field over the dataset (the training split): per
// channel for images (C, H, W) and per feature for vectors (F); one value for other shapes
// (sequences (T, F) share one scale over time). A constant channel gets std 1.
Result<Preprocessing::Normalization> computeNormalization(const Dataset& train,
                                                          const std::string& field);

// Normalises `count` gathered samples of the field in place: x' = (x - mean[c]) / std[c], with
// c the channel (first per-sample dimension) when mean has one entry per channel, else one
// value for every element.
void normalizeBatch(const Preprocessing::Normalization& norm, const FieldInfo& field,
                    float* data, int64_t count);

}  // namespace strata

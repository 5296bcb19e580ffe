#include "core/data/split.h"

#include <algorithm>
#include <cmath>

#include "core/data/data_util.h"
#include "core/data/open_dataset.h"

namespace strata {

SubsetDataset::SubsetDataset(std::shared_ptr<const Dataset> parent, std::vector<int64_t> indices)
    : m_parent(std::move(parent)), m_indices(std::move(indices)) {}

void SubsetDataset::gather(std::span<const int64_t> indices, const std::string& field,
                           float* out) const {
    std::vector<int64_t> mapped(indices.size());
    for (size_t i = 0; i < indices.size(); ++i) {
        mapped[i] = m_indices[static_cast<size_t>(indices[i])];
    }
    m_parent->gather(mapped, field, out);
}

namespace {

void shuffle(std::vector<int64_t>& v, data::Rng& rng) {
    for (int64_t i = static_cast<int64_t>(v.size()) - 1; i > 0; --i) {
        std::swap(v[static_cast<size_t>(i)], v[static_cast<size_t>(rng.below(i + 1))]);
    }
}

std::string shapeText(const std::vector<int64_t>& dims) {
    return Shape::batched(dims).str();
}

// Refuses a separate validation/test file whose fields differ from the training data's.
Result<void> sameFields(const Dataset& train, const Dataset& other, const std::string& what) {
    for (const FieldInfo& f : train.fields()) {
        auto g = other.field(f.name);
        if (!g) {
            return fail("the " + what + " has no field '" + f.name +
                        "' but the training data has; use files of the same kind");
        }
        if (g->shape != f.shape || g->dtype != f.dtype) {
            return fail("the " + what + " gives '" + f.name + "' as " + shapeText(g->shape) +
                        " " + dtypeName(g->dtype) + " but the training data gives " +
                        shapeText(f.shape) + " " + dtypeName(f.dtype));
        }
    }
    return {};
}

}  // namespace

Result<DataSplits> splitDataset(std::shared_ptr<const Dataset> all, double validationFraction,
                                double testFraction, uint64_t seed) {
    auto badFraction = [](double f) { return !std::isfinite(f) || f < 0.0 || f >= 1.0; };
    if (badFraction(validationFraction)) {
        return fail("the validation fraction is " + std::to_string(validationFraction) +
                    " but must lie in [0, 1)");
    }
    if (badFraction(testFraction)) {
        return fail("the test fraction is " + std::to_string(testFraction) +
                    " but must lie in [0, 1)");
    }
    const int64_t n = all->size();
    const auto nVal =
        static_cast<int64_t>(std::llround(static_cast<double>(n) * validationFraction));
    const auto nTest = static_cast<int64_t>(std::llround(static_cast<double>(n) * testFraction));
    if (n - nVal - nTest < 1) {
        return fail("the dataset has " + std::to_string(n) + " samples; after " +
                    std::to_string(nVal) + " for validation and " + std::to_string(nTest) +
                    " for testing none is left for training; lower the fractions");
    }
    std::vector<int64_t> perm(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) perm[static_cast<size_t>(i)] = i;
    data::Rng rng(data::mixSeed(seed, 0x5b117));
    shuffle(perm, rng);
    auto part = [&](int64_t from, int64_t to) {
        std::vector<int64_t> idx(perm.begin() + from, perm.begin() + to);
        std::sort(idx.begin(), idx.end());
        return std::make_shared<SubsetDataset>(all, std::move(idx));
    };
    DataSplits s;
    s.test = part(0, nTest);
    s.validation = part(nTest, nTest + nVal);
    s.train = part(nTest + nVal, n);
    return s;
}

Result<DataSplits> openSplits(const DatasetBinding& binding,
                              const std::filesystem::path& documentDir) {
    auto all = openDataset(binding, documentDir);
    if (!all) return all.error();
    data::Options opt(binding.options);
    auto valSource = opt.string({"validation_source"}, "");
    if (!valSource) return valSource.error();
    auto testSource = opt.string({"test_source"}, "");
    if (!testSource) return testSource.error();

    auto split = splitDataset(*all, valSource->empty() ? binding.validationFraction : 0.0,
                              testSource->empty() ? binding.testFraction : 0.0,
                              binding.splitSeed);
    if (!split) return split.error();

    // A side file is read with the training data's options and its class and token numbering,
    // so that the same id means the same thing in both.
    nlohmann::json sideOptions = binding.options.is_object() ? binding.options
                                                             : nlohmann::json::object();
    sideOptions.erase("validation_source");
    sideOptions.erase("test_source");
    sideOptions.erase("labels");
    const Preprocessing known = datasetPreprocessing(**all);
    if (!known.classNames.empty() && !sideOptions.contains("class_names")) {
        sideOptions["class_names"] = known.classNames;
    }
    if (binding.format == "text" && !known.vocabulary.empty()) {
        sideOptions["vocabulary"] = known.vocabulary;
    }
    auto openSide = [&](const std::string& source, const std::string& what,
                        std::shared_ptr<Dataset>& into) -> Result<void> {
        if (source.empty()) return {};
        auto side = openDatasetSource(source, binding.format, sideOptions, documentDir);
        if (!side) return fail("the " + what + " file: " + side.message());
        if (auto ok = sameFields(**all, **side, what + " file " + source); !ok) return ok;
        into = *side;
        return {};
    };
    if (auto ok = openSide(*valSource, "validation", split->validation); !ok) return ok.error();
    if (auto ok = openSide(*testSource, "test", split->test); !ok) return ok.error();
    return split;
}

std::vector<int64_t> epochOrder(int64_t n, uint64_t seed, int64_t epoch) {
    std::vector<int64_t> order(static_cast<size_t>(std::max<int64_t>(n, 0)));
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
    data::Rng rng(data::mixSeed(data::mixSeed(seed, 0xe90c), static_cast<uint64_t>(epoch)));
    shuffle(order, rng);
    return order;
}

namespace {

// Channels of a field for normalisation: images (C, H, W) and vectors (F) get one statistic per
// entry of their first dimension, everything else one for all elements.
int64_t normChannels(const FieldInfo& f) {
    if (f.shape.size() == 3 || f.shape.size() == 1) return std::max<int64_t>(f.shape[0], 1);
    return 1;
}

}  // namespace

Result<Preprocessing::Normalization> computeNormalization(const Dataset& train,
                                                          const std::string& field) {
    auto info = train.field(field);
    if (!info) return fail("the dataset has no field '" + field + "' to normalise");
    if (info->dtype != DType::Float32) {
        return fail("the field '" + field + "' holds ids, which are not normalised");
    }
    const int64_t n = train.size();
    if (n == 0) return fail("the training split is empty; there is nothing to normalise from");
    const int64_t per = info->sampleSize();
    const int64_t channels = normChannels(*info);
    const int64_t inner = per / channels;
    std::vector<double> sum(static_cast<size_t>(channels), 0.0);
    std::vector<double> sq(static_cast<size_t>(channels), 0.0);
    constexpr int64_t kChunk = 256;
    std::vector<float> buf;
    std::vector<int64_t> idx;
    // Two passes (mean, then squared deviations) stay accurate for data far from zero.
    for (int pass = 0; pass < 2; ++pass) {
        for (int64_t start = 0; start < n; start += kChunk) {
            const int64_t m = std::min(kChunk, n - start);
            idx.resize(static_cast<size_t>(m));
            for (int64_t i = 0; i < m; ++i) idx[static_cast<size_t>(i)] = start + i;
            buf.resize(static_cast<size_t>(m * per));
            train.gather(idx, field, buf.data());
            for (int64_t i = 0; i < m; ++i) {
                for (int64_t c = 0; c < channels; ++c) {
                    const float* p = buf.data() + i * per + c * inner;
                    double acc = 0.0;
                    if (pass == 0) {
                        for (int64_t k = 0; k < inner; ++k) acc += p[k];
                        sum[static_cast<size_t>(c)] += acc;
                    } else {
                        const double mu = sum[static_cast<size_t>(c)];
                        for (int64_t k = 0; k < inner; ++k) acc += (p[k] - mu) * (p[k] - mu);
                        sq[static_cast<size_t>(c)] += acc;
                    }
                }
            }
        }
        if (pass == 0) {
            for (double& s : sum) s /= static_cast<double>(n * inner);
        }
    }
    Preprocessing::Normalization norm;
    for (int64_t c = 0; c < channels; ++c) {
        const double var = sq[static_cast<size_t>(c)] / static_cast<double>(n * inner);
        const double sd = std::sqrt(var);
        norm.mean.push_back(static_cast<float>(sum[static_cast<size_t>(c)]));
        norm.std.push_back(sd < 1e-6 ? 1.0f : static_cast<float>(sd));
    }
    return norm;
}

void normalizeBatch(const Preprocessing::Normalization& norm, const FieldInfo& field,
                    float* data, int64_t count) {
    if (norm.mean.empty() || norm.mean.size() != norm.std.size()) return;
    const int64_t per = field.sampleSize();
    const auto entries = static_cast<int64_t>(norm.mean.size());
    const bool perChannel =
        !field.shape.empty() && entries == field.shape[0] && entries > 1;
    const int64_t inner = perChannel ? per / entries : per;
    for (int64_t i = 0; i < count; ++i) {
        for (int64_t c = 0; c < (perChannel ? entries : 1); ++c) {
            const float mu = norm.mean[static_cast<size_t>(c)];
            const float inv = 1.0f / norm.std[static_cast<size_t>(c)];
            float* p = data + i * per + c * inner;
            for (int64_t k = 0; k < inner; ++k) p[k] = (p[k] - mu) * inv;
        }
    }
}

}  // namespace strata

// Generated numeric sets: `regression` (vectors) and `sine` (sequences).
#include <cmath>
#include <numbers>

#include "core/data/builtin.h"
#include "core/data/data_util.h"

namespace strata::builtin {

Result<std::shared_ptr<AnnotatedDataset>> regression(const nlohmann::json& options) {
    data::Options opt(options);
    auto count = opt.integer({"count"}, 2000, 1, 10000000);
    if (!count) return count.error();
    auto seed = opt.seed({"seed"}, 0);
    if (!seed) return seed.error();
    auto features = opt.integer({"features", "in_features"}, 10, 1, 4096);
    if (!features) return features.error();
    auto outputs = opt.integer({"outputs", "out_features"}, 10, 1, 4096);
    if (!outputs) return outputs.error();
    const int64_t n = *count, f = *features, k = *outputs;

    // The map is the same for every seed, so a training set and a validation set drawn with
    // different seeds describe the same function.
    data::Rng mapRng(0x5157a7a5eedull + static_cast<uint64_t>(f * 4099 + k));
    std::vector<double> w(static_cast<size_t>(k * f));  // (K, F)
    for (double& v : w) v = mapRng.normal() / std::sqrt(static_cast<double>(f));
    std::vector<double> b(static_cast<size_t>(k));  // (K)
    for (double& v : b) v = 0.5 * mapRng.normal();

    data::Rng rng(data::mixSeed(*seed, 0x7e6));
    Tensor x{Shape{n, f}};       // (N, F)
    Tensor target{Shape{n, k}};  // (N, K)
    for (int64_t i = 0; i < n; ++i) {
        float* xi = x.ptr() + i * f;
        for (int64_t j = 0; j < f; ++j) xi[j] = static_cast<float>(rng.normal());
        for (int64_t o = 0; o < k; ++o) {
            double y = b[static_cast<size_t>(o)];
            for (int64_t j = 0; j < f; ++j) y += w[static_cast<size_t>(o * f + j)] * xi[j];
            // Mild nonlinearity: a straight line fits most of it, a small network all of it.
            y += 0.3 * std::sin(2.0 * y);
            const double noisy = y + 0.05 * rng.normal();
            target.data[static_cast<size_t>(i * k + o)] = static_cast<float>(noisy);
        }
    }
    std::map<std::string, Tensor> fields;
    fields.emplace("x", std::move(x));
    fields.emplace("target", std::move(target));
    return AnnotatedDataset::create(std::move(fields), {}, {});
}

Result<std::shared_ptr<AnnotatedDataset>> sine(const nlohmann::json& options) {
    data::Options opt(options);
    auto count = opt.integer({"count"}, 2000, 1, 10000000);
    if (!count) return count.error();
    auto seed = opt.seed({"seed"}, 0);
    if (!seed) return seed.error();
    auto steps = opt.integer({"T", "steps", "length"}, 20, 1, 100000);
    if (!steps) return steps.error();
    auto features = opt.integer({"features"}, 10, 1, 4096);
    if (!features) return features.error();
    const int64_t n = *count, t = *steps, f = *features;

    data::Rng rng(data::mixSeed(*seed, 0x513e));
    Tensor x{Shape{n, t, f}};    // (N, T, F)
    Tensor target{Shape{n, f}};  // (N, F) the value of each channel at step T
    for (int64_t i = 0; i < n; ++i) {
        for (int64_t c = 0; c < f; ++c) {
            const double amplitude = rng.uniform(0.5, 1.0);
            const double omega = rng.uniform(0.15, 0.6);  // radians per step
            const double phase = rng.uniform(0.0, 2.0 * std::numbers::pi);
            for (int64_t s = 0; s <= t; ++s) {
                const double v = amplitude * std::sin(omega * static_cast<double>(s) + phase);
                if (s < t) {
                    x.data[static_cast<size_t>((i * t + s) * f + c)] = static_cast<float>(v);
                } else {
                    target.data[static_cast<size_t>(i * f + c)] = static_cast<float>(v);
                }
            }
        }
    }
    std::map<std::string, Tensor> fields;
    fields.emplace("x", std::move(x));
    fields.emplace("target", std::move(target));
    return AnnotatedDataset::create(std::move(fields), {}, {});
}

}  // namespace strata::builtin

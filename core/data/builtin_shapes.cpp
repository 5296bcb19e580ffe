// Generated coloured shapes, a CIFAR-sized stand-in that needs no download.
#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/data/builtin.h"
#include "core/data/data_util.h"

namespace strata::builtin {

namespace {

constexpr int kSide = 32;

const std::vector<std::string> kShapeNames = {
    "circle", "square",   "triangle", "cross",    "ring",
    "horizontal bar", "vertical bar", "diamond", "two dots", "x"};

// Whether the point (dx, dy), relative to the shape's centre and in units of its half-size,
// lies inside shape `kind`.
bool inside(int kind, double dx, double dy) {
    const double ax = std::fabs(dx), ay = std::fabs(dy), r = std::hypot(dx, dy);
    switch (kind) {
        case 0: return r <= 1.0;
        case 1: return ax <= 0.8 && ay <= 0.8;
        case 2: {  // apex up, base at dy = 0.8
            if (dy < -1.0 || dy > 0.8) return false;
            const double halfWidth = (dy + 1.0) / 1.8;  // 0 at the apex, 1 at the base
            return ax <= halfWidth;
        }
        case 3: return (ax <= 0.28 && ay <= 1.0) || (ay <= 0.28 && ax <= 1.0);
        case 4: return r <= 1.0 && r >= 0.55;
        case 5: return ax <= 1.0 && ay <= 0.3;
        case 6: return ay <= 1.0 && ax <= 0.3;
        case 7: return ax + ay <= 1.0;
        case 8: return std::hypot(ax - 0.6, dy) <= 0.4;
        case 9: {
            if (ax > 0.9 || ay > 0.9) return false;
            return std::fabs(dx - dy) <= 0.35 || std::fabs(dx + dy) <= 0.35;
        }
        default: return false;
    }
}

void hsvToRgb(double h, double s, double v, float rgb[3]) {
    const double c = v * s;
    const double hp = std::fmod(h * 6.0, 6.0);
    const double x = c * (1 - std::fabs(std::fmod(hp, 2.0) - 1));
    double r = 0, g = 0, b = 0;
    if (hp < 1) r = c, g = x;
    else if (hp < 2) r = x, g = c;
    else if (hp < 3) g = c, b = x;
    else if (hp < 4) g = x, b = c;
    else if (hp < 5) r = x, b = c;
    else r = c, b = x;
    const double m = v - c;
    rgb[0] = static_cast<float>(r + m);
    rgb[1] = static_cast<float>(g + m);
    rgb[2] = static_cast<float>(b + m);
}

}  // namespace

const std::vector<std::string>& shapeNames() { return kShapeNames; }

Result<std::shared_ptr<AnnotatedDataset>> shapes(const nlohmann::json& options) {
    data::Options opt(options);
    auto count = opt.integer({"count"}, 3000, 1, 1000000);
    if (!count) return count.error();
    auto seed = opt.seed({"seed"}, 0);
    if (!seed) return seed.error();
    const int64_t n = *count;

    // Labels cycle through the classes (balanced), then are shuffled so that no run of samples
    // shares a class.
    std::vector<int64_t> label(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) label[static_cast<size_t>(i)] = i % 10;
    data::Rng order(data::mixSeed(*seed, 1));
    for (int64_t i = n - 1; i > 0; --i) std::swap(label[i], label[order.below(i + 1)]);

    Tensor image{Shape{n, 3, kSide, kSide}};  // (N, 3, 32, 32)
    Tensor labels{Shape{n}};                  // (N)
    constexpr int kSuper = 3;  // supersamples per axis: smooth edges
    for (int64_t i = 0; i < n; ++i) {
        data::Rng rng(data::mixSeed(*seed, static_cast<uint64_t>(i) + 2));
        const int kind = static_cast<int>(label[static_cast<size_t>(i)]);
        labels.data[static_cast<size_t>(i)] = static_cast<float>(kind);
        const double size = rng.uniform(6.0, 11.0);  // half-size in pixels
        const double cx = rng.uniform(size + 1.0, kSide - size - 1.0);
        const double cy = rng.uniform(size + 1.0, kSide - size - 1.0);
        const double angle = kind == 8 ? rng.uniform(0.0, std::numbers::pi) : 0.0;
        float fg[3], bg[3];
        const double hue = rng.uniform();
        hsvToRgb(hue, rng.uniform(0.6, 1.0), rng.uniform(0.75, 1.0), fg);
        hsvToRgb(std::fmod(hue + rng.uniform(0.25, 0.75), 1.0), rng.uniform(0.2, 0.8),
                 rng.uniform(0.05, 0.4), bg);
        const double noise = 0.04;
        const double ca = std::cos(angle), sa = std::sin(angle);
        float* px = image.ptr() + i * 3 * kSide * kSide;
        for (int y = 0; y < kSide; ++y) {
            for (int x = 0; x < kSide; ++x) {
                int hits = 0;
                for (int sy = 0; sy < kSuper; ++sy) {
                    for (int sx = 0; sx < kSuper; ++sx) {
                        const double px0 = x + (sx + 0.5) / kSuper - cx;
                        const double py0 = y + (sy + 0.5) / kSuper - cy;
                        const double dx = (ca * px0 + sa * py0) / size;
                        const double dy = (-sa * px0 + ca * py0) / size;
                        hits += inside(kind, dx, dy) ? 1 : 0;
                    }
                }
                const float cover = static_cast<float>(hits) / (kSuper * kSuper);
                for (int c = 0; c < 3; ++c) {
                    const float v = fg[c] * cover + bg[c] * (1 - cover) +
                                    static_cast<float>(noise * rng.normal());
                    px[(c * kSide + y) * kSide + x] = std::clamp(v, 0.0f, 1.0f);
                }
            }
        }
    }
    std::map<std::string, Tensor> fields;
    fields.emplace("image", std::move(image));
    fields.emplace("label", std::move(labels));
    DatasetNotes notes;
    notes.numClasses["label"] = 10;
    notes.classNames = kShapeNames;
    return AnnotatedDataset::create(std::move(fields), {{"label", DType::Int32}},
                                    std::move(notes));
}

}  // namespace strata::builtin

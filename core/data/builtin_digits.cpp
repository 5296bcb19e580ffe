// The 8x8 handwritten digits shipped in samples/data (see digits.md for source and licence).
#include <algorithm>
#include <cmath>

#include "core/data/builtin.h"
#include "core/data/data_util.h"

namespace strata::builtin {

namespace {

constexpr int kSide = 8;
constexpr int kPixels = kSide * kSide;

// Bilinear resampling with PyTorch's align_corners=False convention (pixel centres line up).
void resizeBilinear(const float* src, int from, float* dst, int to) {
    const float scale = static_cast<float>(from) / static_cast<float>(to);
    for (int y = 0; y < to; ++y) {
        const float sy = std::max(0.0f, (static_cast<float>(y) + 0.5f) * scale - 0.5f);
        const int y0 = std::min(static_cast<int>(sy), from - 1);
        const int y1 = std::min(y0 + 1, from - 1);
        const float wy = sy - static_cast<float>(y0);
        for (int x = 0; x < to; ++x) {
            const float sx = std::max(0.0f, (static_cast<float>(x) + 0.5f) * scale - 0.5f);
            const int x0 = std::min(static_cast<int>(sx), from - 1);
            const int x1 = std::min(x0 + 1, from - 1);
            const float wx = sx - static_cast<float>(x0);
            const float top = src[y0 * from + x0] * (1 - wx) + src[y0 * from + x1] * wx;
            const float bottom = src[y1 * from + x0] * (1 - wx) + src[y1 * from + x1] * wx;
            dst[y * to + x] = top * (1 - wy) + bottom * wy;
        }
    }
}

}  // namespace

Result<std::shared_ptr<AnnotatedDataset>> digits(const nlohmann::json& options,
                                                 const std::filesystem::path& documentDir,
                                                 int side) {
    (void)options;
    auto path = data::findDataFile("digits.csv.gz", documentDir);
    if (!path) return path.error();
    auto bytes = data::readFileBytes(*path);
    if (!bytes) return bytes.error();

    std::vector<float> pixels;  // (N, 64) in [0, 1]
    std::vector<float> labels;  // (N)
    int64_t line = 1;
    std::vector<int> values;
    int value = -1;
    // 64 whole numbers 0..16 and a class 0..9 per line.
    auto endLine = [&]() -> Result<void> {
        if (value >= 0) values.push_back(value);
        value = -1;
        if (values.empty()) return {};
        if (values.size() != kPixels + 1) {
            return data::atLine(*path, line,
                                "holds " + std::to_string(values.size()) +
                                    " values but a digit has 64 pixels and a class");
        }
        for (int i = 0; i < kPixels; ++i) {
            if (values[static_cast<size_t>(i)] > 16) {
                return data::atLine(*path, line, "a pixel value exceeds 16");
            }
            pixels.push_back(static_cast<float>(values[static_cast<size_t>(i)]) / 16.0f);
        }
        if (values.back() > 9) return data::atLine(*path, line, "the class exceeds 9");
        labels.push_back(static_cast<float>(values.back()));
        values.clear();
        return {};
    };
    for (uint8_t c : *bytes) {
        if (c >= '0' && c <= '9') {
            value = (value < 0 ? 0 : value * 10) + (c - '0');
            if (value > 1000) return data::atLine(*path, line, "a value is too large");
        } else if (c == ',') {
            if (value < 0) return data::atLine(*path, line, "a value is missing");
            values.push_back(value);
            value = -1;
        } else if (c == '\n') {
            if (auto ok = endLine(); !ok) return ok.error();
            ++line;
        } else if (c != '\r' && c != ' ') {
            return data::atLine(*path, line, "unexpected character in the digits table");
        }
    }
    if (auto ok = endLine(); !ok) return ok.error();
    const int64_t n = static_cast<int64_t>(labels.size());
    if (n == 0) return fail(path->string() + ": holds no digits");

    Tensor image{Shape{n, 1, side, side}};  // (N, 1, side, side)
    for (int64_t i = 0; i < n; ++i) {
        const float* src = pixels.data() + i * kPixels;
        float* dst = image.ptr() + i * side * side;
        if (side == kSide) {
            std::copy(src, src + kPixels, dst);
        } else {
            resizeBilinear(src, kSide, dst, side);
        }
    }
    std::map<std::string, Tensor> fields;
    fields.emplace("image", std::move(image));
    fields.emplace("label", Tensor{Shape{n}, std::move(labels)});
    DatasetNotes notes;
    notes.numClasses["label"] = 10;
    notes.classNames = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
    return AnnotatedDataset::create(std::move(fields), {{"label", DType::Int32}},
                                    std::move(notes));
}

}  // namespace strata::builtin

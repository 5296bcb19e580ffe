#include "core/data/text_reader.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/data/data_util.h"

namespace strata {

namespace {

struct Char {
    std::string text;  // the UTF-8 bytes of one code point
    uint64_t offset;   // where it starts in the file
};

// Splits UTF-8 into code points, refusing malformed bytes with their offset.
Result<std::vector<Char>> decodeUtf8(const std::filesystem::path& path,
                                     const std::vector<uint8_t>& b) {
    std::vector<Char> out;
    out.reserve(b.size());
    size_t i = (b.size() >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) ? 3 : 0;
    while (i < b.size()) {
        const uint8_t c = b[i];
        const size_t len = c < 0x80            ? 1
                           : (c >> 5) == 0x6  ? 2
                           : (c >> 4) == 0xE  ? 3
                           : (c >> 3) == 0x1E ? 4
                                              : 0;
        bool ok = len > 0 && i + len <= b.size();
        for (size_t k = 1; ok && k < len; ++k) ok = (b[i + k] & 0xC0) == 0x80;
        if (!ok) {
            return data::atByte(path, i, "the text is not valid UTF-8; save the file as UTF-8");
        }
        if (c == '\r' && i + 1 < b.size() && b[i + 1] == '\n') {
            ++i;  // Windows line ends read as one newline
            continue;
        }
        out.push_back({std::string(b.begin() + static_cast<std::ptrdiff_t>(i),
                                   b.begin() + static_cast<std::ptrdiff_t>(i + len)),
                       i});
        i += len;
    }
    return out;
}

}  // namespace

Result<std::shared_ptr<AnnotatedDataset>> readText(const std::filesystem::path& path,
                                                   const nlohmann::json& options) {
    data::Options opt(options);
    if (auto ok = opt.checkObject(); !ok) return ok.error();
    auto window = opt.integer({"window", "sequence_length", "length", "T"}, 64, 1, 1 << 20);
    if (!window) return window.error();
    auto stride = opt.integer({"stride"}, *window, 1, 1 << 30);
    if (!stride) return stride.error();
    auto fixed = opt.strings({"vocabulary"});
    if (!fixed) return fixed.error();

    auto bytes = data::readFileBytes(path);
    if (!bytes) return bytes.error();
    if (bytes->empty()) return fail(path.string() + ": is empty, but a text corpus was expected");
    auto chars = decodeUtf8(path, *bytes);
    if (!chars) return chars.error();
    const int64_t len = static_cast<int64_t>(chars->size());
    if (len < *window + 1) {
        return fail(path.string() + ": holds " + std::to_string(len) +
                    " characters, too few for one window of " + std::to_string(*window) +
                    " plus the character that follows it; use a longer text or a smaller "
                    "'window'");
    }

    std::vector<std::string> vocabulary = *fixed;
    if (vocabulary.empty()) {
        std::set<std::string> unique;
        for (const Char& c : *chars) unique.insert(c.text);
        vocabulary.assign(unique.begin(), unique.end());  // byte order = code point order
    }
    std::map<std::string, int64_t> ids;
    for (size_t i = 0; i < vocabulary.size(); ++i) ids.emplace(vocabulary[i], i);
    std::vector<float> id(static_cast<size_t>(len));
    for (int64_t i = 0; i < len; ++i) {
        const Char& c = (*chars)[static_cast<size_t>(i)];
        auto it = ids.find(c.text);
        if (it == ids.end()) {
            return data::atByte(path, c.offset,
                                "the character \"" + c.text +
                                    "\" is not in the model's vocabulary");
        }
        id[static_cast<size_t>(i)] = static_cast<float>(it->second);
    }

    const int64_t t = *window;
    const int64_t n = (len - t - 1) / *stride + 1;
    Tensor tokens{Shape{n, t}};  // (N, T)
    Tensor target{Shape{n, t}};  // (N, T) the next character of each token
    for (int64_t s = 0; s < n; ++s) {
        const int64_t start = s * *stride;
        for (int64_t k = 0; k < t; ++k) {
            tokens.data[static_cast<size_t>(s * t + k)] = id[static_cast<size_t>(start + k)];
            target.data[static_cast<size_t>(s * t + k)] = id[static_cast<size_t>(start + k + 1)];
        }
    }
    std::map<std::string, Tensor> fields;
    fields.emplace("tokens", std::move(tokens));
    fields.emplace("target", std::move(target));
    DatasetNotes notes;
    const auto v = static_cast<int64_t>(vocabulary.size());
    notes.numClasses = {{"tokens", v}, {"target", v}};
    notes.vocabulary = std::move(vocabulary);
    return AnnotatedDataset::create(std::move(fields),
                                    {{"tokens", DType::Int32}, {"target", DType::Int32}},
                                    std::move(notes));
}

}  // namespace strata

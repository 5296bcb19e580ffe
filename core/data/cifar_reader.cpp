#include "core/data/cifar_reader.h"

#include <algorithm>
#include <sstream>

#include "core/data/data_util.h"

namespace strata {

namespace {

constexpr int64_t kPixels = 3 * 32 * 32;
constexpr int64_t kRecord = 1 + kPixels;

std::vector<std::string> readClassNames(const std::filesystem::path& meta) {
    auto bytes = data::readFileBytes(meta);
    if (!bytes) return {};
    std::string text(bytes->begin(), bytes->end());
    std::istringstream in(text);
    std::vector<std::string> names;
    for (std::string line; std::getline(in, line);) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (!line.empty()) names.push_back(line);
    }
    // Only a file naming exactly the ten classes is trusted.
    if (names.size() != 10) return {};
    return names;
}

}  // namespace

Result<std::vector<std::filesystem::path>> cifar10Batches(const std::filesystem::path& folder,
                                                          const std::string& split) {
    if (split != "train" && split != "test") {
        return fail("option 'split' must be \"train\" or \"test\", not \"" + split + "\"");
    }
    std::vector<std::filesystem::path> found;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
        const std::string name = entry.path().filename().string();
        const bool isBatch = split == "train"
                                 ? name.rfind("data_batch_", 0) == 0 && name.ends_with(".bin")
                                 : name == "test_batch.bin";
        if (isBatch) found.push_back(entry.path());
    }
    if (ec) return fail(folder.string() + ": cannot list the folder (" + ec.message() + ")");
    if (found.empty()) {
        return fail(folder.string() + ": holds no CIFAR-10 " +
                    (split == "train" ? std::string("data_batch_*.bin")
                                      : std::string("test_batch.bin")) +
                    " file; point the dataset at the cifar-10-batches-bin folder");
    }
    std::sort(found.begin(), found.end());
    return found;
}

Result<std::shared_ptr<AnnotatedDataset>> readCifar10(
    const std::vector<std::filesystem::path>& batches) {
    if (batches.empty()) return fail("no CIFAR-10 batch file was given");
    std::vector<float> image;  // (N, 3, 32, 32)
    std::vector<float> label;  // (N)
    for (const auto& path : batches) {
        auto bytes = data::readFileBytes(path);
        if (!bytes) return bytes.error();
        const auto& b = *bytes;
        if (b.empty()) return fail(path.string() + ": is empty, but a CIFAR-10 batch was expected");
        const uint64_t whole = b.size() / kRecord;
        if (b.size() % kRecord != 0) {
            return data::atByte(path, b.size(),
                                "truncated: the last record has " +
                                    std::to_string(b.size() % kRecord) + " of its " +
                                    std::to_string(kRecord) +
                                    " bytes (1 label + 3072 pixels); is this a CIFAR-10 "
                                    "binary batch, not the Python or CIFAR-100 version?");
        }
        image.reserve(image.size() + whole * kPixels);
        for (uint64_t r = 0; r < whole; ++r) {
            const uint8_t* rec = b.data() + r * kRecord;
            if (rec[0] > 9) {
                return data::atByte(path, r * kRecord,
                                    "record " + std::to_string(r) + " has the label " +
                                        std::to_string(rec[0]) +
                                        ", but CIFAR-10 labels lie in 0..9 (a CIFAR-100 file "
                                        "has 2 label bytes per record)");
            }
            label.push_back(rec[0]);
            for (int64_t i = 0; i < kPixels; ++i) image.push_back(rec[1 + i] / 255.0f);
        }
    }
    const int64_t n = static_cast<int64_t>(label.size());
    std::map<std::string, Tensor> fields;
    fields.emplace("image", Tensor{Shape{n, 3, 32, 32}, std::move(image)});
    fields.emplace("label", Tensor{Shape{n}, std::move(label)});
    DatasetNotes notes;
    notes.numClasses["label"] = 10;
    notes.classNames = readClassNames(batches.front().parent_path() / "batches.meta.txt");
    return AnnotatedDataset::create(std::move(fields), {{"label", DType::Int32}},
                                    std::move(notes));
}

}  // namespace strata

#include "core/data/idx_reader.h"

#include <algorithm>

#include "core/data/data_util.h"

namespace strata {

namespace {

using data::atByte;

struct IdxArray {
    std::vector<int64_t> dims;
    std::vector<uint8_t> bytes;  // the whole file; values start at `offset`
    size_t offset = 0;
};

std::string typeName(uint8_t code) {
    switch (code) {
        case 0x09: return "signed bytes (0x09)";
        case 0x0B: return "16-bit integers (0x0B)";
        case 0x0C: return "32-bit integers (0x0C)";
        case 0x0D: return "floats (0x0D)";
        case 0x0E: return "doubles (0x0E)";
        default: return "an unknown type code";
    }
}

Result<IdxArray> readIdxFile(const std::filesystem::path& path, int wantRank, const char* what) {
    auto bytes = data::readFileBytes(path);
    if (!bytes) return bytes.error();
    IdxArray a;
    a.bytes = std::move(bytes).value();
    const auto& b = a.bytes;
    if (b.empty()) {
        return fail(path.string() + ": is empty, but an IDX " + what + " file was expected");
    }
    if (b.size() < 4) {
        return atByte(path, b.size(), "the file ends inside the 4-byte IDX magic number");
    }
    if (b[0] != 0 || b[1] != 0) {
        return atByte(path, 0, "wrong magic number: an IDX file starts with two zero bytes "
                               "(is this really an MNIST-style IDX file?)");
    }
    if (b[2] != 0x08) {
        return atByte(path, 2, "the IDX data type is " + typeName(b[2]) +
                                   ", but images and labels must be unsigned bytes (0x08)");
    }
    const int rank = b[3];
    if (rank != wantRank) {
        return atByte(path, 3, "the IDX file has " + std::to_string(rank) +
                                   " dimensions, but an " + what + " file has " +
                                   std::to_string(wantRank) +
                                   (wantRank == 3 ? " (count, rows, columns)" : " (count)"));
    }
    const size_t header = 4 + 4 * static_cast<size_t>(rank);
    if (b.size() < header) {
        return atByte(path, b.size(), "truncated: the file ends inside the IDX header of " +
                                          std::to_string(header) + " bytes");
    }
    uint64_t total = 1;
    for (int i = 0; i < rank; ++i) {
        const size_t p = 4 + 4 * static_cast<size_t>(i);
        const uint64_t d = (uint64_t{b[p]} << 24) | (uint64_t{b[p + 1]} << 16) |
                           (uint64_t{b[p + 2]} << 8) | uint64_t{b[p + 3]};
        if (d == 0 && i > 0) return atByte(path, p, "an image dimension is 0");
        a.dims.push_back(static_cast<int64_t>(d));
        if (d != 0 && total > (uint64_t{1} << 40) / d) {
            return atByte(path, p, "the header announces more than 2^40 values, which no real "
                                   "IDX file holds");
        }
        total *= d;
    }
    if (a.dims[0] == 0) return atByte(path, 4, std::string("the file holds no ") + what);
    if (b.size() - header < total) {
        return atByte(path, b.size(),
                      "truncated: the header announces " + std::to_string(total) +
                          " values (" + std::to_string(header + total) +
                          " bytes in all) but the file ends after " + std::to_string(b.size()) +
                          " bytes");
    }
    if (b.size() - header > total) {
        return atByte(path, header + total,
                      "the file goes on after the " + std::to_string(total) +
                          " values its header announces; it may be two files joined");
    }
    a.offset = header;
    return a;
}

}  // namespace

std::filesystem::path idxLabelsBeside(const std::filesystem::path& images) {
    std::string name = images.filename().string();
    auto replace = [&](const std::string& from, const std::string& to) {
        size_t at = name.find(from);
        if (at == std::string::npos) return false;
        name.replace(at, from.size(), to);
        return true;
    };
    if (!replace("images-idx3", "labels-idx1") && !replace("images.idx3", "labels.idx1") &&
        !replace("images", "labels")) {
        return {};
    }
    return images.parent_path() / name;
}

Result<std::shared_ptr<AnnotatedDataset>> readIdx(const std::filesystem::path& images,
                                                  const std::filesystem::path& labels) {
    auto img = readIdxFile(images, 3, "images");
    if (!img) return img.error();
    const int64_t n = img->dims[0], h = img->dims[1], w = img->dims[2];
    Tensor image{Shape{n, 1, h, w}};  // (N, 1, H, W)
    const uint8_t* px = img->bytes.data() + img->offset;
    for (int64_t i = 0; i < n * h * w; ++i) image.data[static_cast<size_t>(i)] = px[i] / 255.0f;
    img->bytes = {};

    std::map<std::string, Tensor> fields;
    std::map<std::string, DType> dtypes;
    DatasetNotes notes;
    fields.emplace("image", std::move(image));
    if (!labels.empty()) {
        auto lab = readIdxFile(labels, 1, "labels");
        if (!lab) return lab.error();
        if (lab->dims[0] != n) {
            return atByte(labels, 4, "the file holds " + std::to_string(lab->dims[0]) +
                                         " labels but " + images.filename().string() +
                                         " holds " + std::to_string(n) +
                                         " images; pair the images with their own labels file");
        }
        Tensor label{Shape{n}};  // (N)
        int64_t maxLabel = 0;
        for (int64_t i = 0; i < n; ++i) {
            const uint8_t v = lab->bytes[lab->offset + static_cast<size_t>(i)];
            label.data[static_cast<size_t>(i)] = v;
            maxLabel = std::max<int64_t>(maxLabel, v);
        }
        fields.emplace("label", std::move(label));
        dtypes["label"] = DType::Int32;
        notes.numClasses["label"] = std::max<int64_t>(10, maxLabel + 1);
    }
    return AnnotatedDataset::create(std::move(fields), std::move(dtypes), std::move(notes));
}

}  // namespace strata

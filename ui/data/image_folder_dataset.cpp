#include "ui/data/image_folder_dataset.h"

#include <QImage>
#include <QImageReader>
#include <QString>
#include <algorithm>
#include <mutex>

#include "core/data/open_dataset.h"

namespace strata::ui {

namespace fs = std::filesystem;

namespace {

bool isImageFile(const fs::path& p) {
    std::string ext = p.extension().string();
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

QString qpath(const fs::path& p) { return QString::fromStdString(p.string()); }

// Decodes one file, or says why it cannot be decoded.
Result<QImage> decode(const fs::path& file) {
    QImageReader reader(qpath(file));
    QImage image = reader.read();
    if (image.isNull()) {
        return fail(file.string() + ": cannot decode the image (" +
                    reader.errorString().toStdString() + "); replace or remove the file");
    }
    return image;
}

struct Shape3 {
    int channels = 0, height = 0, width = 0;
};

Result<Shape3> shapeOption(const nlohmann::json& options, const fs::path& root) {
    if (!options.is_object() || !options.contains("shape")) return Shape3{};
    const nlohmann::json& s = options["shape"];
    const std::string where = root.string() + ": option \"shape\" ";
    if (!s.is_array() || s.size() != 3) {
        return fail(where + "must be [channels, height, width], e.g. [1, 28, 28]");
    }
    int dims[3];
    for (size_t i = 0; i < 3; ++i) {
        if (!s[i].is_number_integer() || s[i].get<int64_t>() < 1 || s[i].get<int64_t>() > 4096) {
            return fail(where + "must hold whole numbers from 1 to 4096, not " + s.dump());
        }
        dims[i] = static_cast<int>(s[i].get<int64_t>());
    }
    if (dims[0] != 1 && dims[0] != 3) {
        return fail(where + "asks for " + std::to_string(dims[0]) +
                    " channels; image folders give 1 (grey) or 3 (RGB)");
    }
    return Shape3{dims[0], dims[1], dims[2]};
}

}  // namespace

void imageToTensor(const QImage& image, int channels, int height, int width, float* out) {
    QImage scaled = image.size() == QSize(width, height)
                        ? image
                        : image.scaled(width, height, Qt::IgnoreAspectRatio,
                                       Qt::SmoothTransformation);
    const int64_t plane = int64_t(height) * width;
    if (channels == 1) {
        const QImage grey = scaled.convertToFormat(QImage::Format_Grayscale8);
        for (int y = 0; y < height; ++y) {
            const uchar* row = grey.constScanLine(y);
            for (int x = 0; x < width; ++x) out[int64_t(y) * width + x] = float(row[x]) / 255.0f;
        }
        return;
    }
    const QImage rgb = scaled.convertToFormat(QImage::Format_RGB888);
    for (int y = 0; y < height; ++y) {
        const uchar* row = rgb.constScanLine(y);
        for (int x = 0; x < width; ++x) {
            for (int c = 0; c < 3; ++c) {
                out[c * plane + int64_t(y) * width + x] = float(row[3 * x + c]) / 255.0f;
            }
        }
    }
}

Result<std::shared_ptr<AnnotatedDataset>> readImageFolder(const fs::path& root,
                                                          const nlohmann::json& options) {
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
        return fail(root.string() +
                    " is not a folder; an image folder holds one sub-folder of images per class");
    }
    auto requested = shapeOption(options, root);
    if (!requested) return requested.error();

    // Class folders and their images, both in byte order so labels never depend on the system.
    std::vector<std::string> classes;
    fs::directory_iterator it(root, ec);
    if (ec) return fail(root.string() + ": cannot list the folder (" + ec.message() + ")");
    for (const auto& entry : it) {
        if (entry.is_directory(ec) && entry.path().filename().string()[0] != '.') {
            classes.push_back(entry.path().filename().string());
        }
    }
    std::sort(classes.begin(), classes.end());
    if (classes.empty()) {
        return fail(root.string() + " holds no class sub-folders; put the images of each class "
                    "in a sub-folder named after the class (e.g. " + root.string() + "/cat/)");
    }
    if (classes.size() < 2) {
        return fail(root.string() + " holds only one class sub-folder (" + classes[0] +
                    "); a classifier needs at least two");
    }
    std::vector<std::pair<fs::path, int>> files;
    for (size_t label = 0; label < classes.size(); ++label) {
        const fs::path dir = root / classes[label];
        std::vector<fs::path> images;
        fs::directory_iterator files_it(dir, ec);
        if (ec) return fail(dir.string() + ": cannot list the folder (" + ec.message() + ")");
        for (const auto& entry : files_it) {
            if (entry.is_regular_file(ec) && isImageFile(entry.path())) {
                images.push_back(entry.path());
            }
        }
        if (images.empty()) {
            return fail(dir.string() + " holds no PNG or JPEG images; add some or remove the "
                        "class folder");
        }
        std::sort(images.begin(), images.end());
        for (auto& p : images) files.emplace_back(std::move(p), static_cast<int>(label));
    }

    Shape3 shape = *requested;
    const int64_t n = static_cast<int64_t>(files.size());
    std::vector<float> pixels, labels(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        auto image = decode(files[size_t(i)].first);
        if (!image) return image.error();
        if (shape.channels == 0) {
            shape = {image->isGrayscale() ? 1 : 3, image->height(), image->width()};
        }
        if (i == 0) pixels.resize(size_t(n) * size_t(shape.channels * shape.height * shape.width));
        const int64_t size = int64_t(shape.channels) * shape.height * shape.width;
        imageToTensor(*image, shape.channels, shape.height, shape.width,
                      pixels.data() + i * size);
        labels[size_t(i)] = float(files[size_t(i)].second);
    }

    std::map<std::string, Tensor> fields;
    fields["image"] = Tensor(Shape{n, shape.channels, shape.height, shape.width},
                             std::move(pixels));
    fields["label"] = Tensor(Shape{n}, std::move(labels));
    DatasetNotes notes;
    notes.numClasses["label"] = static_cast<int64_t>(classes.size());
    notes.classNames = classes;
    auto ds = AnnotatedDataset::create(std::move(fields), {{"label", DType::Int32}},
                                       std::move(notes));
    if (!ds) return fail(root.string() + ": " + ds.message());
    return ds;
}

void registerImageFolderFormat() {
    static std::once_flag once;
    std::call_once(once, [] {
        registerDatasetFormat("image_folder",
                              [](const fs::path& source, const nlohmann::json& options)
                                  -> Result<std::shared_ptr<Dataset>> {
                                  auto ds = readImageFolder(source, options);
                                  if (!ds) return ds.error();
                                  return std::shared_ptr<Dataset>(std::move(*ds));
                              });
    });
}

}  // namespace strata::ui

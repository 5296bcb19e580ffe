#include "app/image_input.h"

#include "core/data/tensor_dataset.h"

#ifdef STRATA_HAVE_QT_GUI
#include <QImage>
#include <QString>
#endif

namespace strata::app {

Result<std::shared_ptr<const Dataset>> readImageInput(const std::filesystem::path& file,
                                                      const FieldInfo& input) {
    const std::string name = file.string();
    if (input.dtype != DType::Float32 || input.shape.size() != 3 ||
        (input.shape[0] != 1 && input.shape[0] != 3)) {
        std::string shape;
        for (int64_t d : input.shape) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
        return fail(name + ": an image needs a model whose input takes (C, H, W) float images "
                           "with 1 or 3 channels, but its input '" +
                    input.name + "' takes (" + shape + ")");
    }
#ifdef STRATA_HAVE_QT_GUI
    QImage image;
    if (!image.load(QString::fromStdString(name))) {
        return fail(name + ": cannot be read as an image (missing, unreadable, or not a PNG, "
                           "JPEG or BMP file)");
    }
    const int64_t channels = input.shape[0], height = input.shape[1], width = input.shape[2];
    image = image.scaled(static_cast<int>(width), static_cast<int>(height), Qt::IgnoreAspectRatio,
                         Qt::SmoothTransformation);
    image = image.convertToFormat(channels == 1 ? QImage::Format_Grayscale8
                                                : QImage::Format_RGB888);
    Tensor t{Shape{1, channels, height, width}};  // (1, C, H, W)
    for (int64_t y = 0; y < height; ++y) {
        const uchar* row = image.constScanLine(static_cast<int>(y));
        for (int64_t x = 0; x < width; ++x) {
            for (int64_t c = 0; c < channels; ++c) {
                t.data[static_cast<size_t>((c * height + y) * width + x)] =
                    static_cast<float>(row[x * channels + c]) / 255.0f;
            }
        }
    }
    auto d = TensorDataset::create({{input.name, std::move(t)}});
    if (!d) return d.error();
    return std::shared_ptr<const Dataset>(std::make_shared<TensorDataset>(std::move(*d)));
#else
    return fail(name + ": this build of strata cannot decode images (it was built without Qt 6 "
                       "Gui); give the samples as IDX, CSV or a JSON array instead");
#endif
}

}  // namespace strata::app

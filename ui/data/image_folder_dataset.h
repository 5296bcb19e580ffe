#pragma once
// Image folders: one sub-folder per class, PNG or JPEG files inside, decoded with Qt (so this
// reader lives outside core and registers itself with core's registerDatasetFormat).
//   root/cat/001.png, root/dog/a.jpg ...  ->  "image" (C, H, W) in [0, 1], "label" (Int32)
// Class names are the sub-folder names in byte order; label i is the i-th name. Every image is
// resized to H x W (aspect ratio not kept) and converted to grey (C = 1) or RGB (C = 3).
// Options: "shape" [C, H, W] (C 1 or 3; the dataset panel writes the bound input node's shape);
// without it, the first image's size, with 1 channel when that image is grey, else 3.
// Files with other extensions are skipped; a corrupt image, an empty class folder or a folder
// without class sub-folders is refused with the file and the reason.
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/data/annotated_dataset.h"
#include "core/util/result.h"

class QImage;

namespace strata::ui {

Result<std::shared_ptr<AnnotatedDataset>> readImageFolder(const std::filesystem::path& root,
                                                          const nlohmann::json& options = {});

// An image as a (channels, height, width) float tensor in [0, 1]: resized (aspect ratio not
// kept), then grey (channels 1) or RGB (channels 3). out holds channels * height * width floats.
void imageToTensor(const QImage& image, int channels, int height, int width, float* out);

// Makes "image_folder" readable by openDataset (the studio and `strata train` call this at
// start). Safe to call more than once.
void registerImageFolderFormat();

}  // namespace strata::ui

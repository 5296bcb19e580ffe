// The image-folder reader: PNGs written by the test into a temporary folder, read back resized,
// labelled by sorted class names; refusals name the file and the reason.
#include <gtest/gtest.h>

#include <QDir>
#include <QFile>
#include <QGuiApplication>
#include <QImage>
#include <QTemporaryDir>

#include "core/data/open_dataset.h"
#include "ui/data/image_folder_dataset.h"

namespace strata::ui {
namespace {

// A w x h image filled with one grey value (or one colour).
void writeImage(const QString& path, int w, int h, QColor colour, const char* format = "PNG") {
    QDir().mkpath(QFileInfo(path).absolutePath());
    QImage img(w, h, QImage::Format_RGB32);
    img.fill(colour);
    ASSERT_TRUE(img.save(path, format)) << path.toStdString();
}

class ImageFolder : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(dir.isValid());
        root = dir.path().toStdString();
        // Classes on disk out of order: "zebra" before "ant" by creation.
        writeImage(dir.filePath("zebra/1.png"), 20, 10, QColor(255, 255, 255));
        writeImage(dir.filePath("zebra/2.jpg"), 16, 16, QColor(250, 250, 250), "JPG");
        writeImage(dir.filePath("ant/a.png"), 8, 8, QColor(0, 0, 0));
        writeImage(dir.filePath("ant/b.png"), 30, 30, QColor(0, 0, 255));
        writeImage(dir.filePath("ant/c.PNG"), 5, 7, QColor(0, 0, 0));
        QFile notes(dir.filePath("ant/README.txt"));
        ASSERT_TRUE(notes.open(QIODevice::WriteOnly));
        notes.write("not an image");
    }
    QTemporaryDir dir;
    std::filesystem::path root;
};

TEST_F(ImageFolder, ReadsClassesInSortedOrderResizedToTheShape) {
    auto ds = readImageFolder(root, {{"shape", {1, 6, 6}}});
    ASSERT_TRUE(ds.ok()) << ds.message();
    EXPECT_EQ((*ds)->size(), 5);  // README.txt is skipped
    EXPECT_EQ((*ds)->classNames(), (std::vector<std::string>{"ant", "zebra"}));
    auto image = (*ds)->field("image");
    ASSERT_TRUE(image);
    EXPECT_EQ(image->shape, (std::vector<int64_t>{1, 6, 6}));
    auto label = (*ds)->field("label");
    ASSERT_TRUE(label);
    EXPECT_EQ(label->dtype, DType::Int32);
    EXPECT_EQ(label->numClasses, 2);
    std::vector<int64_t> all = {0, 1, 2, 3, 4};
    std::vector<float> labels(5), pixels(5 * 36);
    (*ds)->gather(all, "label", labels.data());
    (*ds)->gather(all, "image", pixels.data());
    EXPECT_EQ(labels, (std::vector<float>{0, 0, 0, 1, 1}));
    EXPECT_FLOAT_EQ(pixels[0], 0.0f);             // ant/a.png: black
    // ant/b.png: pure blue becomes a dark grey (luminance), neither black nor white.
    EXPECT_GT(pixels[36 + 10], 0.05f);
    EXPECT_LT(pixels[36 + 10], 0.5f);
    EXPECT_FLOAT_EQ(pixels[3 * 36 + 35], 1.0f);   // zebra/1.png: white, resized from 20x10
    EXPECT_NEAR(pixels[4 * 36 + 17], 250 / 255.0, 0.02);  // the JPEG
}

TEST_F(ImageFolder, ThreeChannelsKeepColour) {
    auto ds = readImageFolder(root, {{"shape", {3, 4, 4}}});
    ASSERT_TRUE(ds.ok()) << ds.message();
    std::vector<float> px(48);
    const int64_t blue = 1;  // ant/b.png
    (*ds)->gather(std::span<const int64_t>(&blue, 1), "image", px.data());
    EXPECT_FLOAT_EQ(px[0], 0.0f);        // red plane
    EXPECT_FLOAT_EQ(px[16], 0.0f);       // green plane
    EXPECT_FLOAT_EQ(px[32 + 5], 1.0f);   // blue plane
}

TEST_F(ImageFolder, WithoutAShapeTheFirstImageDecides) {
    auto ds = readImageFolder(root);
    ASSERT_TRUE(ds.ok()) << ds.message();
    EXPECT_EQ((*ds)->field("image")->shape, (std::vector<int64_t>{1, 8, 8}));  // ant/a.png, grey
}

TEST_F(ImageFolder, ACorruptImageIsRefusedWithItsFile) {
    QFile bad(dir.filePath("zebra/3.png"));
    ASSERT_TRUE(bad.open(QIODevice::WriteOnly));
    bad.write("\x89PNG\r\n\x1a\n this is not really a png");
    bad.close();
    auto ds = readImageFolder(root, {{"shape", {1, 6, 6}}});
    ASSERT_FALSE(ds.ok());
    EXPECT_NE(ds.message().find("zebra/3.png"), std::string::npos) << ds.message();
    EXPECT_NE(ds.message().find("cannot decode"), std::string::npos) << ds.message();
}

TEST_F(ImageFolder, EmptyFoldersAndBadShapesAreRefused) {
    QTemporaryDir empty;
    auto none = readImageFolder(empty.path().toStdString());
    ASSERT_FALSE(none.ok());
    EXPECT_NE(none.message().find("no class sub-folders"), std::string::npos) << none.message();

    QDir().mkpath(dir.filePath("moth"));
    auto emptyClass = readImageFolder(root);
    ASSERT_FALSE(emptyClass.ok());
    EXPECT_NE(emptyClass.message().find("moth holds no PNG or JPEG"), std::string::npos)
        << emptyClass.message();
    QDir(dir.filePath("moth")).removeRecursively();

    auto channels = readImageFolder(root, {{"shape", {2, 6, 6}}});
    ASSERT_FALSE(channels.ok());
    EXPECT_NE(channels.message().find("1 (grey) or 3 (RGB)"), std::string::npos);
    auto file = readImageFolder(root / "ant" / "a.png");
    ASSERT_FALSE(file.ok());
    EXPECT_NE(file.message().find("is not a folder"), std::string::npos);
}

TEST_F(ImageFolder, OpenDatasetReadsTheFormatOnceRegistered) {
    registerImageFolderFormat();
    DatasetBinding b;
    b.source = root.string();
    b.format = "image_folder";
    b.options = {{"shape", {1, 5, 5}}};
    auto ds = openDataset(b, {});
    ASSERT_TRUE(ds.ok()) << ds.message();
    EXPECT_EQ((*ds)->size(), 5);
    EXPECT_EQ((*ds)->field("image")->shape, (std::vector<int64_t>{1, 5, 5}));
}

}  // namespace
}  // namespace strata::ui

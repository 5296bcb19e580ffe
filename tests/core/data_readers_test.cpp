// The file readers: what they read from small files the tests write, and every refusal naming
// the file, the place (byte offset or line) and the reason.
#include <gtest/gtest.h>

#include "core/data/cifar_reader.h"
#include "core/data/csv_reader.h"
#include "core/data/idx_reader.h"
#include "core/data/open_dataset.h"
#include "core/data/text_reader.h"
#include "data_test_util.h"

namespace strata {
namespace {

using testdata::all;
using testdata::freshDir;
using testdata::writeBytes;
using testdata::writeGzip;
using testdata::writeText;

// 3 images of 2x3 and their labels, MNIST layout.
std::vector<uint8_t> idxImages() {
    std::vector<uint8_t> b = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 3};
    for (int i = 0; i < 18; ++i) b.push_back(static_cast<uint8_t>(i * 15));  // 0..255
    return b;
}
std::vector<uint8_t> idxLabels() { return {0, 0, 8, 1, 0, 0, 0, 3, 4, 9, 0}; }

void expectIdxContent(const Dataset& d) {
    ASSERT_EQ(d.size(), 3);
    auto image = d.field("image");
    ASSERT_TRUE(image);
    EXPECT_EQ(image->shape, (std::vector<int64_t>{1, 2, 3}));
    auto label = d.field("label");
    ASSERT_TRUE(label);
    EXPECT_EQ(label->dtype, DType::Int32);
    EXPECT_EQ(label->numClasses, 10);  // although only 0, 4 and 9 occur
    EXPECT_EQ(all(d, "label"), (std::vector<float>{4, 9, 0}));
    auto px = all(d, "image");
    ASSERT_EQ(px.size(), 18u);
    EXPECT_FLOAT_EQ(px[0], 0.0f);
    EXPECT_FLOAT_EQ(px[1], 15.0f / 255.0f);
    EXPECT_FLOAT_EQ(px[17], 1.0f);
}

TEST(DataIdx, ReadsPlainFiles) {
    auto dir = freshDir();
    writeBytes(dir / "train-images-idx3-ubyte", idxImages());
    writeBytes(dir / "train-labels-idx1-ubyte", idxLabels());
    auto d = readIdx(dir / "train-images-idx3-ubyte", dir / "train-labels-idx1-ubyte");
    ASSERT_TRUE(d) << d.message();
    expectIdxContent(**d);
}

TEST(DataIdx, ReadsGzipFilesAndFindsTheLabelsBeside) {
    auto dir = freshDir();
    writeGzip(dir / "t10k-images-idx3-ubyte.gz", idxImages());
    writeGzip(dir / "t10k-labels-idx1-ubyte.gz", idxLabels());
    DatasetBinding b{.source = "t10k-images-idx3-ubyte.gz", .format = "idx"};
    auto d = openDataset(b, dir);
    ASSERT_TRUE(d) << d.message();
    expectIdxContent(**d);
    // The folder form picks the test files by the MNIST names.
    DatasetBinding folder{.source = ".", .format = "idx", .options = {{"split", "test"}}};
    auto f = openDataset(folder, dir);
    ASSERT_TRUE(f) << f.message();
    EXPECT_EQ((*f)->size(), 3);
}

TEST(DataIdx, RefusesATruncatedFileWithTheOffset) {
    auto dir = freshDir();
    auto b = idxImages();
    b.resize(b.size() - 5);  // 13 of 18 pixels
    writeBytes(dir / "imgs.idx", b);
    writeBytes(dir / "labels.idx", idxLabels());
    auto d = readIdx(dir / "imgs.idx", dir / "labels.idx");
    ASSERT_FALSE(d);
    EXPECT_CONTAINS(d.message(), "imgs.idx: byte 29");
    EXPECT_CONTAINS(d.message(), "truncated");
}

TEST(DataIdx, RefusesAWrongMagicNumberOrType) {
    auto dir = freshDir();
    auto b = idxImages();
    b[0] = 0x50;  // 'P', e.g. a PNG by mistake
    writeBytes(dir / "bad-images", b);
    auto d = readIdx(dir / "bad-images", {});
    ASSERT_FALSE(d);
    EXPECT_CONTAINS(d.message(), "bad-images: byte 0");
    EXPECT_CONTAINS(d.message(), "magic");

    b = idxImages();
    b[2] = 0x0D;  // floats
    writeBytes(dir / "float-images", b);
    d = readIdx(dir / "float-images", {});
    ASSERT_FALSE(d);
    EXPECT_CONTAINS(d.message(), "float-images: byte 2");
    EXPECT_CONTAINS(d.message(), "unsigned bytes");
}

TEST(DataIdx, RefusesLabelsThatDoNotMatchTheImages) {
    auto dir = freshDir();
    writeBytes(dir / "images", idxImages());
    writeBytes(dir / "labels", {0, 0, 8, 1, 0, 0, 0, 2, 1, 2});
    auto d = readIdx(dir / "images", dir / "labels");
    ASSERT_FALSE(d);
    EXPECT_CONTAINS(d.message(), "2 labels");
    EXPECT_CONTAINS(d.message(), "3 images");
}

TEST(DataIdx, RefusesDamagedGzipAndEmptyAndMissingFiles) {
    auto dir = freshDir();
    writeGzip(dir / "images.gz", idxImages());
    const auto gzSize = std::filesystem::file_size(dir / "images.gz");
    std::filesystem::resize_file(dir / "images.gz", gzSize - 12);
    auto d = readIdx(dir / "images.gz", {});
    ASSERT_FALSE(d);
    EXPECT_CONTAINS(d.message(), "images.gz");
    EXPECT_CONTAINS(d.message(), "gzip");

    writeBytes(dir / "empty", {});
    d = readIdx(dir / "empty", {});
    ASSERT_FALSE(d);
    EXPECT_CONTAINS(d.message(), "empty: is empty");

    d = readIdx(dir / "nowhere", {});
    ASSERT_FALSE(d);
    EXPECT_CONTAINS(d.message(), "nowhere: no such file");
}

// One CIFAR record: label, then red, green and blue planes filled with distinct values.
void appendRecord(std::vector<uint8_t>& b, uint8_t label, uint8_t base) {
    b.push_back(label);
    for (int c = 0; c < 3; ++c) {
        for (int i = 0; i < 1024; ++i) b.push_back(static_cast<uint8_t>(base + c * 50 + (i % 7)));
    }
}

TEST(DataCifar, ReadsSeveralBatchesWithClassNames) {
    auto dir = freshDir();
    std::vector<uint8_t> b1, b2;
    appendRecord(b1, 3, 10);
    appendRecord(b1, 9, 20);
    appendRecord(b2, 0, 30);
    writeBytes(dir / "data_batch_1.bin", b1);
    writeBytes(dir / "data_batch_2.bin", b2);
    writeBytes(dir / "test_batch.bin", b2);
    writeText(dir / "batches.meta.txt",
              "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n");
    DatasetBinding b{.source = ".", .format = "cifar10"};
    auto d = openDataset(b, dir);
    ASSERT_TRUE(d) << d.message();
    ASSERT_EQ((*d)->size(), 3);
    EXPECT_EQ((*d)->field("image")->shape, (std::vector<int64_t>{3, 32, 32}));
    EXPECT_EQ(all(**d, "label"), (std::vector<float>{3, 9, 0}));
    EXPECT_EQ((*d)->field("label")->numClasses, 10);
    ASSERT_EQ((*d)->classNames().size(), 10u);
    EXPECT_EQ((*d)->classNames()[3], "cat");
    auto px = all(**d, "image");
    EXPECT_FLOAT_EQ(px[0], 10.0f / 255.0f);                 // red of the first image
    EXPECT_FLOAT_EQ(px[1024 + 1], 61.0f / 255.0f);          // green plane, second pixel
    EXPECT_FLOAT_EQ(px[3072 * 2 + 2048], 130.0f / 255.0f);  // blue of the third image

    DatasetBinding test{.source = ".", .format = "cifar10", .options = {{"split", "test"}}};
    auto t = openDataset(test, dir);
    ASSERT_TRUE(t) << t.message();
    EXPECT_EQ((*t)->size(), 1);
}

TEST(DataCifar, RefusesATruncatedBatchAndABadLabel) {
    auto dir = freshDir();
    std::vector<uint8_t> b;
    appendRecord(b, 1, 0);
    appendRecord(b, 2, 0);
    b.resize(b.size() - 100);
    writeBytes(dir / "data_batch_1.bin", b);
    auto d = readCifar10({dir / "data_batch_1.bin"});
    ASSERT_FALSE(d);
    EXPECT_CONTAINS(d.message(), "data_batch_1.bin: byte 6046");
    EXPECT_CONTAINS(d.message(), "truncated");

    b.clear();
    appendRecord(b, 1, 0);
    appendRecord(b, 12, 0);
    writeBytes(dir / "data_batch_2.bin", b);
    d = readCifar10({dir / "data_batch_2.bin"});
    ASSERT_FALSE(d);
    EXPECT_CONTAINS(d.message(), "data_batch_2.bin: byte 3073");
    EXPECT_CONTAINS(d.message(), "label 12");
}

TEST(DataCsv, ReadsAHeaderAndStringClasses) {
    auto dir = freshDir();
    writeText(dir / "flowers.csv",
              "sepal_length,sepal_width,species\n"
              "5.1,3.5,setosa\n"
              "7.0,3.2,versicolor\r\n"
              "\n"
              "6.3,3.3,virginica\n"
              "4.9,3.0,setosa\n");
    auto d = readCsv(dir / "flowers.csv");
    ASSERT_TRUE(d) << d.message();
    ASSERT_EQ((*d)->size(), 4);
    EXPECT_EQ((*d)->field("x")->shape, (std::vector<int64_t>{2}));
    EXPECT_EQ(all(**d, "x"), (std::vector<float>{5.1f, 3.5f, 7.0f, 3.2f, 6.3f, 3.3f, 4.9f, 3.0f}));
    EXPECT_EQ(all(**d, "label"), (std::vector<float>{0, 1, 2, 0}));
    EXPECT_EQ((*d)->classNames(),
              (std::vector<std::string>{"setosa", "versicolor", "virginica"}));
    EXPECT_EQ((*d)->field("label")->numClasses, 3);
}

TEST(DataCsv, ReadsWithoutHeaderAndChosenLabelColumn) {
    auto dir = freshDir();
    writeText(dir / "plain.csv", "1,0.5,2\n0,1.5,4\n2,2.5,6\n");
    auto d = readCsv(dir / "plain.csv", {{"label_column", 0}});
    ASSERT_TRUE(d) << d.message();
    ASSERT_EQ((*d)->size(), 3);  // no row taken as a header
    EXPECT_EQ(all(**d, "label"), (std::vector<float>{1, 0, 2}));
    EXPECT_EQ(all(**d, "x"), (std::vector<float>{0.5f, 2, 1.5f, 4, 2.5f, 6}));
    EXPECT_TRUE((*d)->classNames().empty());

    writeText(dir / "semi.csv", "a;b;y\n1;2;0.5\n3;4;1.5\n");
    auto r = readCsv(dir / "semi.csv", {{"label_column", "b"}, {"regression", true}});
    ASSERT_TRUE(r) << r.message();
    EXPECT_EQ((*r)->field("target")->shape, (std::vector<int64_t>{1}));
    EXPECT_EQ(all(**r, "target"), (std::vector<float>{2, 4}));
    EXPECT_EQ(all(**r, "x"), (std::vector<float>{1, 0.5f, 3, 1.5f}));
    EXPECT_FALSE((*r)->field("label"));
}

TEST(DataCsv, RefusesRaggedRowsAndNonNumbersWithTheLine) {
    auto dir = freshDir();
    writeText(dir / "ragged.csv", "a,b,label\n1,2,0\n3,4,1\n5,1\n");
    auto d = readCsv(dir / "ragged.csv");
    ASSERT_FALSE(d);
    EXPECT_CONTAINS(d.message(), "ragged.csv: line 4");
    EXPECT_CONTAINS(d.message(), "2 values");

    writeText(dir / "word.csv", "a,b,label\n1,2,0\n3,four,1\n5,6,1\n");
    d = readCsv(dir / "word.csv");
    ASSERT_FALSE(d);
    EXPECT_CONTAINS(d.message(), "word.csv: line 3");
    EXPECT_CONTAINS(d.message(), "'b'");
    EXPECT_CONTAINS(d.message(), "\"four\" is not a number");

    writeText(dir / "empty.csv", "\n\n");
    d = readCsv(dir / "empty.csv");
    ASSERT_FALSE(d);
    EXPECT_CONTAINS(d.message(), "empty.csv: is empty");

    writeText(dir / "header.csv", "a,b,label\n");
    d = readCsv(dir / "header.csv");
    ASSERT_FALSE(d);
    EXPECT_CONTAINS(d.message(), "no data rows");

    d = readCsv(dir / "absent.csv");
    ASSERT_FALSE(d);
    EXPECT_CONTAINS(d.message(), "absent.csv");

    writeText(dir / "ok.csv", "a,b,label\n1,2,0\n");
    d = readCsv(dir / "ok.csv", {{"label_column", "species"}});
    ASSERT_FALSE(d);
    EXPECT_CONTAINS(d.message(), "a, b, label");
}

TEST(DataText, CutsWindowsOverACharacterVocabulary) {
    auto dir = freshDir();
    writeText(dir / "corpus.txt", "abcab\ncba é!");  // 12 characters, é is two bytes
    auto d = readText(dir / "corpus.txt", {{"window", 4}, {"stride", 3}});
    ASSERT_TRUE(d) << d.message();
    const std::vector<std::string> vocab = {"\n", " ", "!", "a", "b", "c", "é"};
    EXPECT_EQ((*d)->vocabulary(), vocab);
    EXPECT_EQ(datasetVocabulary(**d), vocab);
    EXPECT_EQ((*d)->field("tokens")->numClasses, 7);
    EXPECT_EQ((*d)->field("target")->shape, (std::vector<int64_t>{4}));
    ASSERT_EQ((*d)->size(), 3);  // starts 0, 3, 6; a window at 9 would lack its next char
    auto tokens = all(**d, "tokens");
    auto target = all(**d, "target");
    // window 1 starts at 'a' (offset 3): "ab\nc" then targets "b\ncb"
    EXPECT_EQ(std::vector<float>(tokens.begin() + 4, tokens.begin() + 8),
              (std::vector<float>{3, 4, 0, 5}));
    EXPECT_EQ(std::vector<float>(target.begin() + 4, target.begin() + 8),
              (std::vector<float>{4, 0, 5, 4}));
    for (size_t i = 0; i + 1 < 4; ++i) EXPECT_EQ(target[i], tokens[i + 1]);
}

TEST(DataText, RefusesBadUtf8ShortTextAndUnknownCharacters) {
    auto dir = freshDir();
    writeBytes(dir / "latin1.txt", {'c', 'a', 'f', 0xE9, ' ', 'o', 'k', '.', '.', '.'});
    auto d = readText(dir / "latin1.txt", {{"window", 2}});
    ASSERT_FALSE(d);
    EXPECT_CONTAINS(d.message(), "latin1.txt: byte 3");
    EXPECT_CONTAINS(d.message(), "UTF-8");

    writeText(dir / "short.txt", "abc");
    d = readText(dir / "short.txt");
    ASSERT_FALSE(d);
    EXPECT_CONTAINS(d.message(), "3 characters");

    writeText(dir / "new.txt", "abcz");
    d = readText(dir / "new.txt", {{"window", 2}, {"vocabulary", {"a", "b", "c"}}});
    ASSERT_FALSE(d);
    EXPECT_CONTAINS(d.message(), "new.txt: byte 3");

    d = readText(dir / "new.txt", {{"window", "long"}});
    ASSERT_FALSE(d);
    EXPECT_CONTAINS(d.message(), "'window'");
}

TEST(DataOpen, NamesMissingFilesAndUnknownFormats) {
    auto dir = freshDir();
    DatasetBinding b{.source = "data/missing.csv", .format = "csv"};
    auto d = openDataset(b, dir);
    ASSERT_FALSE(d);
    EXPECT_CONTAINS(d.message(), "missing.csv does not exist");
    EXPECT_CONTAINS(d.message(), "relative to the document");

    b = {.source = "x.dat", .format = "parquet"};
    d = openDataset(b, dir);
    ASSERT_FALSE(d);
    EXPECT_CONTAINS(d.message(), "unknown dataset format \"parquet\"");

    // The format follows from the name when it is left empty.
    writeText(dir / "t.csv", "1,0\n2,1\n");
    b = {.source = "t.csv", .format = ""};
    d = openDataset(b, dir);
    ASSERT_TRUE(d) << d.message();
    EXPECT_EQ((*d)->size(), 2);
}

}  // namespace
}  // namespace strata

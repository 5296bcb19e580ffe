// The dataset panel with real widgets: choosing a built-in set binds it (undoably) and previews
// it; a file that cannot be read shows why and keeps the previous binding; CSV and text previews;
// field choices edit the input nodes.
#include <gtest/gtest.h>

#include <QApplication>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QLabel>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QUndoStack>

#include "core/io/document.h"
#include "ui/data/dataset_panel.h"
#include "ui/main_window.h"
#include "ui/node_editor/editor_model.h"
#include "ui_test_app.h"

namespace strata::ui {
namespace {

class DataPanel : public ::testing::Test {
protected:
    void SetUp() override {
        application();
        MainWindow::Options o = testWindowOptions();
        window = std::make_unique<MainWindow>(o);
        window->show();
        // digits-cnn without its dataset section.
        auto doc = readDocument(STRATA_SOURCE_DIR "/samples/digits-cnn/digits-cnn.strata.json");
        ASSERT_TRUE(doc.ok()) << doc.message();
        doc->dataset.reset();
        window->startDocument(std::move(*doc));
    }
    DatasetPanel* panel() { return window->datasetPanel(); }
    const Document& doc() { return window->model()->document(); }
    void choose(const QString& builtin) {
        QComboBox* box = panel()->builtinBox();
        const int i = box->findText(builtin);
        ASSERT_GT(i, 0) << builtin.toStdString();
        box->setCurrentIndex(i);
        emit box->activated(i);  // what a click on the item sends
    }
    std::unique_ptr<MainWindow> window;
};

TEST_F(DataPanel, ChoosingABuiltInSetBindsItAndShowsImagesWithLabels) {
    ASSERT_FALSE(doc().dataset);
    EXPECT_EQ(panel()->preview()->currentIndex(), 0);
    choose("digits");
    ASSERT_TRUE(doc().dataset);
    EXPECT_EQ(doc().dataset->source, "builtin:digits");
    EXPECT_EQ(doc().dataset->format, "builtin");
    EXPECT_TRUE(panel()->errorLabel()->isHidden());
    EXPECT_EQ(panel()->preview()->currentWidget(), panel()->imageGrid());
    ASSERT_EQ(panel()->imageGrid()->count(), DatasetPanel::kPreviewImages);
    EXPECT_EQ(panel()->imageGrid()->item(0)->text(), "0");  // the first digit is a zero
    EXPECT_FALSE(panel()->imageGrid()->item(0)->icon().isNull());
    EXPECT_TRUE(panel()->summaryLabel()->text().contains("1797 samples"));
    EXPECT_TRUE(panel()->classCountsLabel()->text().contains("0: 178")) <<
        panel()->classCountsLabel()->text().toStdString();
    EXPECT_EQ(panel()->splitLabel()->text(), "1617 train · 180 validation · 0 test");
    EXPECT_TRUE(window->isModified());

    // One undo step unbinds, redo binds again.
    window->model()->undoStack()->undo();
    EXPECT_FALSE(doc().dataset);
    EXPECT_EQ(panel()->imageGrid()->count(), 0);
    window->model()->undoStack()->redo();
    ASSERT_TRUE(doc().dataset);
    EXPECT_EQ(panel()->imageGrid()->count(), DatasetPanel::kPreviewImages);
}

TEST_F(DataPanel, AFileThatCannotBeReadShowsWhyAndKeepsTheBinding) {
    choose("digits");
    const int undoSteps = window->model()->undoStack()->count();
    QTemporaryDir dir;
    const QString bad = dir.filePath("train-images-idx3-ubyte");
    QFile f(bad);
    ASSERT_TRUE(f.open(QIODevice::WriteOnly));
    f.write("this is not an IDX file at all");
    f.close();
    auto ok = panel()->chooseFile(bad);
    ASSERT_FALSE(ok.ok());
    EXPECT_FALSE(panel()->errorLabel()->isHidden());
    EXPECT_TRUE(panel()->errorLabel()->text().contains("train-images-idx3-ubyte"))
        << panel()->errorLabel()->text().toStdString();
    EXPECT_TRUE(panel()->errorLabel()->text().contains("unchanged"));
    ASSERT_TRUE(doc().dataset);
    EXPECT_EQ(doc().dataset->source, "builtin:digits");
    EXPECT_EQ(window->model()->undoStack()->count(), undoSteps);
    EXPECT_EQ(panel()->imageGrid()->count(), DatasetPanel::kPreviewImages);
}

TEST_F(DataPanel, CsvShowsTableRowsAndTextShowsAnExcerpt) {
    QTemporaryDir dir;
    QFile csv(dir.filePath("iris.csv"));
    ASSERT_TRUE(csv.open(QIODevice::WriteOnly));
    csv.write("a,b,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n9,10,2\n");
    csv.close();
    auto ok = panel()->chooseFile(csv.fileName());
    ASSERT_TRUE(ok.ok()) << ok.message();
    EXPECT_EQ(doc().dataset->format, "");  // inferred from .csv by the reader
    EXPECT_EQ(panel()->preview()->currentWidget(), panel()->table());
    EXPECT_EQ(panel()->table()->rowCount(), 5);
    EXPECT_GE(panel()->table()->columnCount(), 3);

    QFile text(dir.filePath("story.txt"));
    ASSERT_TRUE(text.open(QIODevice::WriteOnly));
    text.write(QByteArray("once upon a time there was a tiny corpus. ").repeated(20));
    text.close();
    ok = panel()->bindSource(text.fileName().toStdString(), "text", {{"window", 16}});
    ASSERT_TRUE(ok.ok()) << ok.message();
    EXPECT_EQ(panel()->preview()->currentWidget(), panel()->textPreview());
    EXPECT_TRUE(panel()->textPreview()->toPlainText().contains("once upon a time"))
        << panel()->textPreview()->toPlainText().toStdString();
}

TEST_F(DataPanel, FieldChoicesEditTheInputNodesAndTheSplitIsUndoable) {
    choose("digits");
    QComboBox* image = panel()->bindingBox("image");
    QComboBox* label = panel()->bindingBox("label");
    ASSERT_TRUE(image && label);
    EXPECT_EQ(image->currentData().toString(), "image");
    EXPECT_EQ(label->currentData().toString(), "label");
    const int other = label->findData("image");
    ASSERT_GE(other, 0);
    label->setCurrentIndex(other);
    emit label->activated(other);
    const Node* node = window->model()->graph().nodeByName("label");
    EXPECT_EQ(getString(node->params, "field"), "image");
    window->model()->undoStack()->undo();
    node = window->model()->graph().nodeByName("label");
    EXPECT_EQ(getString(node->params, "field"), "label");

    panel()->validationBox()->setValue(0.25);
    EXPECT_DOUBLE_EQ(doc().dataset->validationFraction, 0.25);
    EXPECT_EQ(panel()->splitLabel()->text(), "1348 train · 449 validation · 0 test");
    window->model()->undoStack()->undo();
    EXPECT_DOUBLE_EQ(doc().dataset->validationFraction, 0.1);
    EXPECT_EQ(panel()->validationBox()->value(), 0.1);
}

TEST_F(DataPanel, AnImageFolderIsResizedToTheGraphsImageInput) {
    QTemporaryDir dir;
    for (const char* cls : {"b", "a"}) {
        QDir().mkpath(dir.filePath(cls));
        for (int i = 0; i < 3; ++i) {
            QImage img(20, 20, QImage::Format_RGB32);
            img.fill(QColor(i * 100, 50, 0));
            ASSERT_TRUE(img.save(dir.filePath(QString("%1/%2.png").arg(cls).arg(i))));
        }
    }
    auto ok = panel()->chooseFile(dir.path());
    ASSERT_TRUE(ok.ok()) << ok.message();
    EXPECT_EQ(doc().dataset->format, "image_folder");
    EXPECT_EQ(doc().dataset->options["shape"], nlohmann::json({1, 8, 8}));  // digits-cnn's input
    EXPECT_EQ(panel()->imageGrid()->count(), 6);
    EXPECT_EQ(panel()->imageGrid()->item(0)->text(), "a");
    EXPECT_TRUE(panel()->classCountsLabel()->text().contains("b: 3"));
}

}  // namespace
}  // namespace strata::ui

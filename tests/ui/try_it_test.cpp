// The Try-it panel with real widgets: digits-cnn trained for one short epoch in the studio shows
// five classes whose probabilities sum to at most 1 with the model's own prediction on top; a
// drawn digit becomes a non-empty input; export -> import keeps the weights bitwise and the
// same top 5.
#include <gtest/gtest.h>

#include <QApplication>
#include <QComboBox>
#include <QLabel>
#include <QProgressBar>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>

#include "core/data/split.h"
#include "core/engine/cpu_backend.h"
#include "core/engine/program.h"
#include "ui/main_window.h"
#include "ui/node_editor/editor_model.h"
#include "ui/training/dashboard.h"
#include "ui/training/training_session.h"
#include "ui/try_it/trained_model_tracker.h"
#include "ui/try_it/digit_input.h"
#include "ui/try_it/try_it_panel.h"
#include "ui_test_app.h"

namespace strata::ui {
namespace {

// The model's class for one validation sample, computed without the panel or the Predictor: a
// forward-only program on the CPU backend, argmax of the classifier's logits.
int64_t independentPrediction(const TrainedModel& m, const Document& doc, int64_t index) {
    auto program = compile(m.graph, 1, {.training = false});
    EXPECT_TRUE(program.ok());
    std::vector<float> arena = initialParameters(*program, 0);
    EXPECT_TRUE(loadWeights(*program, m.weights, arena).ok());
    CpuBackend cpu;
    EXPECT_TRUE(cpu.prepare(*program).ok());
    EXPECT_TRUE(cpu.uploadParameters(arena).ok());
    auto splits = openSplits(*doc.dataset, STRATA_SOURCE_DIR "/samples/digits-cnn");
    EXPECT_TRUE(splits.ok());
    std::vector<float> image(64), label(1);
    splits->validation->gather(std::span<const int64_t>(&index, 1), "image", image.data());
    splits->validation->gather(std::span<const int64_t>(&index, 1), "label", label.data());
    // The normalisation the run learned, if any, as at training.
    if (auto norm = m.preprocessing.normalization.find("image");
        norm != m.preprocessing.normalization.end()) {
        normalizeBatch(norm->second, *splits->validation->field("image"), image.data(), 1);
    }
    EXPECT_TRUE(cpu.setInput("image", image, 1).ok());
    EXPECT_TRUE(cpu.setInput("label", label, 1).ok());
    EXPECT_TRUE(cpu.runForward({.batch = 1}, Mode::Eval).ok());
    auto logits = cpu.download(*program->output("fc"), 1);
    EXPECT_TRUE(logits.ok());
    return std::max_element(logits->begin(), logits->end()) - logits->begin();
}

class TryIt : public ::testing::Test {
protected:
    void SetUp() override {
        application();
        MainWindow::Options o = testWindowOptions();
        window = std::make_unique<MainWindow>(o);
        window->resize(1400, 900);
        window->show();
    }
    // digits-cnn trained in the studio for three short epochs on the CPU (about a second).
    void trainDigits() {
        auto ok = window->openDocument(STRATA_SOURCE_DIR "/samples/digits-cnn/digits-cnn.strata.json");
        ASSERT_TRUE(ok.ok()) << ok.message();
        EXPECT_FALSE(panel()->hasModel());
        Dashboard* d = window->dashboard();
        d->deviceBox()->setCurrentText("cpu");
        d->epochsBox()->setValue(3);
        QSignalSpy finished(d->session(), &TrainingSession::finished);
        ASSERT_TRUE(d->train()) << d->messageLabel()->text().toStdString();
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 240000);
        ASSERT_TRUE(panel()->hasModel()) << panel()->messageLabel()->text().toStdString();
    }
    TryItPanel* panel() { return window->tryItPanel(); }
    std::unique_ptr<MainWindow> window;
};

void expectTop5(const TryItPanel& p) {
    const auto& r = p.results();
    ASSERT_EQ(r.size(), 5u);
    double sum = 0;
    for (size_t i = 0; i < r.size(); ++i) {
        sum += r[i].value;
        EXPECT_GE(r[i].value, 0.f);
        if (i > 0) {
            EXPECT_LE(r[i].value, r[i - 1].value);
        }
        EXPECT_TRUE(p.bar(int(i))->isVisible());
    }
    EXPECT_LE(sum, 1.0 + 1e-5);
    EXPECT_GT(sum, 0.5);  // five of ten digits hold most of the mass
}

TEST_F(TryIt, AStudioTrainedDigitsCnnShowsTheTop5WithItsPredictionFirst) {
    trainDigits();
    for (int64_t sample : {0, 7, 42}) {
        auto ok = panel()->runValidationSample(sample);
        ASSERT_TRUE(ok.ok()) << ok.message();
        expectTop5(*panel());
        EXPECT_EQ(panel()->predictedClass(),
                  independentPrediction(*window->trainedModel()->model(),
                                        window->model()->document(), sample));
        EXPECT_EQ(panel()->results()[0].name, QString::number(panel()->predictedClass()));
    }
    EXPECT_TRUE(panel()->messageLabel()->text().contains("true label"));
    // It learned the digits: most of the first 50 validation samples are right.
    int right = 0;
    auto splits = openSplits(*window->model()->document().dataset,
                             STRATA_SOURCE_DIR "/samples/digits-cnn");
    ASSERT_TRUE(splits.ok());
    for (int64_t i = 0; i < 50; ++i) {
        ASSERT_TRUE(panel()->runValidationSample(i).ok());
        float label = 0;
        splits->validation->gather(std::span<const int64_t>(&i, 1), "label", &label);
        right += panel()->predictedClass() == int64_t(label);
    }
    EXPECT_GE(right, 40);
}

TEST_F(TryIt, DrawingOnTheCanvasGivesANonEmptyInput) {
    trainDigits();
    QTabWidget* tabs = panel()->sources();
    EXPECT_TRUE(tabs->isTabEnabled(2));   // Draw: a 1-channel image model
    EXPECT_FALSE(tabs->isTabEnabled(3));  // Text: no vocabulary
    tabs->setCurrentIndex(2);
    DigitCanvas* canvas = panel()->canvas();
    QTRY_VERIFY(canvas->isVisible());
    ASSERT_TRUE(canvas->isBlank());
    EXPECT_FALSE(panel()->runDrawing().ok());  // nothing drawn yet
    // A vertical stroke down the middle: a "1".
    const int side = std::min(canvas->width(), canvas->height());
    QTest::mousePress(canvas, Qt::LeftButton, {}, QPoint(side / 2, side / 6));
    for (int y = side / 6; y <= side * 5 / 6; y += side / 12) {
        QTest::mouseMove(canvas, QPoint(side / 2, y));
    }
    QTest::mouseRelease(canvas, Qt::LeftButton, {}, QPoint(side / 2, side * 5 / 6));
    EXPECT_FALSE(canvas->isBlank());
    const auto& input = panel()->lastInput();
    ASSERT_EQ(input.size(), 64u);  // (1, 8, 8)
    const float ink = *std::max_element(input.begin(), input.end());
    EXPECT_GT(ink, 0.5f);
    // The stroke sits in the middle columns, not the borders.
    EXPECT_GT(input[4 * 8 + 3] + input[4 * 8 + 4], 0.5f);
    EXPECT_LT(input[4 * 8 + 0] + input[4 * 8 + 7], 0.1f);
    expectTop5(*panel());
}

// A "7": a bar and a slanted stem, in canvas widget coordinates, `size` wide, from `at`.
QVector<QPointF> seven(QPointF at, double size) {
    return {at, at + QPointF(size, 0), at + QPointF(size * 0.45, size * 1.4)};
}

double maxDifference(const std::vector<float>& a, const std::vector<float>& b) {
    EXPECT_EQ(a.size(), b.size());
    double d = 0;
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
        d = std::max(d, double(std::abs(a[i] - b[i])));
    }
    return d;
}

TEST_F(TryIt, ADigitDrawnInACornerReachesTheModelAsIfDrawnInTheMiddle) {
    trainDigits();
    panel()->sources()->setCurrentIndex(2);
    DigitCanvas* canvas = panel()->canvas();
    QTRY_VERIFY(canvas->isVisible());
    const double side = std::min(canvas->width(), canvas->height());

    canvas->stroke(seven({side * 0.35, side * 0.25}, side * 0.3));
    ASSERT_TRUE(panel()->runDrawing().ok());
    const std::vector<float> middle = panel()->lastInput();
    const int64_t middleClass = panel()->predictedClass();
    ASSERT_EQ(middle.size(), 64u);  // (1, 8, 8)

    canvas->clear();
    canvas->stroke(seven({side * 0.09, side * 0.09}, side * 0.3));  // top-left corner, pen inside
    ASSERT_TRUE(panel()->runDrawing().ok());
    const std::vector<float> corner = panel()->lastInput();
    EXPECT_LT(maxDifference(corner, middle), 0.1);
    EXPECT_EQ(panel()->predictedClass(), middleClass);

    // Like the digits set: the ink spans the frame's height, centred left to right.
    for (int row : {0, 7}) {
        float ink = 0;
        for (int x = 0; x < 8; ++x) ink += corner[size_t(row * 8 + x)];
        EXPECT_GT(ink, 0.3f) << "row " << row;
    }
    double mass = 0, mx = 0;
    for (int y = 0; y < 8; ++y) {
        for (int x = 0; x < 8; ++x) {
            mass += corner[size_t(y * 8 + x)];
            mx += corner[size_t(y * 8 + x)] * (x + 0.5);
        }
    }
    EXPECT_NEAR(mx / mass, 4.0, 0.25);
}

// A canvas whose widget and image pixels coincide, so that shifted strokes are exactly shifted.
class DigitFramingTest : public ::testing::Test {
protected:
    void SetUp() override {
        application();
        canvasWidget = std::make_unique<DigitCanvas>();
        canvasWidget->setFixedSize(168, 168);
        ASSERT_EQ(canvas().image().size(), QSize(168, 168));
    }
    DigitCanvas& canvas() { return *canvasWidget; }
    std::vector<float> draw(QPointF at, double size, int h, int w) {
        canvas().clear();
        canvas().stroke(seven(at, size));
        return digitInput(canvas().image(), h, w, digitFramingFor(h, w));
    }
    std::unique_ptr<DigitCanvas> canvasWidget;  // after the application exists
};

TEST_F(DigitFramingTest, MnistSizedModelsGetTheDigitIn20x20CentredByMass) {
    const auto middle = draw({60, 40}, 50, 28, 28);
    const auto corner = draw({15, 15}, 50, 28, 28);  // the pen (28 wide) just inside
    const auto farCorner = draw({100, 80}, 50, 28, 28);
    ASSERT_EQ(middle.size(), 28u * 28u);
    // Shifted by whole canvas pixels: the same input but for rounding.
    EXPECT_LT(maxDifference(corner, middle), 1e-4);
    EXPECT_LT(maxDifference(farCorner, middle), 1e-4);

    int left = 28, right = -1, top = 28, bottom = -1;
    double mass = 0, mx = 0, my = 0;
    for (int y = 0; y < 28; ++y) {
        for (int x = 0; x < 28; ++x) {
            const float v = middle[size_t(y * 28 + x)];
            if (v <= 0) continue;
            left = std::min(left, x), right = std::max(right, x);
            top = std::min(top, y), bottom = std::max(bottom, y);
            mass += v, mx += v * (x + 0.5), my += v * (y + 0.5);
        }
    }
    ASSERT_GT(mass, 0);
    // The larger side of the ink's box is MNIST's 20 pixels (21 touched when it straddles pixel
    // edges), leaving a margin all round.
    EXPECT_GE(std::max(right - left + 1, bottom - top + 1), 20);
    EXPECT_LE(std::max(right - left + 1, bottom - top + 1), 21);
    EXPECT_GE(std::min({left, top, 27 - right, 27 - bottom}), 1);
    EXPECT_NEAR(mx / mass, 14.0, 0.75);
    EXPECT_NEAR(my / mass, 14.0, 0.75);
}

TEST_F(DigitFramingTest, ABlankDrawingIsAnEmptyFrame) {
    canvas().clear();
    const auto input = digitInput(canvas().image(), 28, 28, digitFramingFor(28, 28));
    EXPECT_EQ(input, std::vector<float>(28 * 28, 0.0f));
}

TEST_F(TryIt, ExportThenImportKeepsTheWeightsBitwiseAndTheTop5) {
    trainDigits();
    ASSERT_TRUE(panel()->runValidationSample(11).ok());
    const auto before = panel()->results();
    const TrainedModel trained = *window->trainedModel()->model();

    QTemporaryDir dir;
    const QString path = dir.filePath("digits.trained.strata.json");
    auto ok = window->exportTrainedModel(path);
    ASSERT_TRUE(ok.ok()) << ok.message();
    auto written = readDocument(path.toStdString());
    ASSERT_TRUE(written.ok()) << written.message();
    EXPECT_EQ(written->trainingRecord["epochs"].size(), 3u);
    EXPECT_EQ(written->trainingRecord["settings"]["epochs"], 3);
    EXPECT_EQ(written->preprocessing->classNames.size(), 10u);

    window->startDocument(Document{});
    EXPECT_FALSE(panel()->hasModel());
    // The export sits in a temporary folder: the dataset path is builtin, so it still opens.
    ok = window->importModel(path);
    ASSERT_TRUE(ok.ok()) << ok.message();
    ASSERT_TRUE(panel()->hasModel());
    const TrainedModel& imported = *window->trainedModel()->model();
    ASSERT_EQ(imported.weights.size(), trained.weights.size());
    for (const auto& [node, tensors] : trained.weights) {
        for (const auto& [name, t] : tensors) {
            const Tensor& u = imported.weights.at(node).at(name);
            ASSERT_EQ(u.shape, t.shape) << node << "." << name;
            EXPECT_EQ(0, std::memcmp(u.data.data(), t.data.data(), t.data.size() * sizeof(float)))
                << node << "." << name;
        }
    }
    ASSERT_TRUE(panel()->runValidationSample(11).ok());
    const auto after = panel()->results();
    ASSERT_EQ(after.size(), before.size());
    for (size_t i = 0; i < after.size(); ++i) {
        EXPECT_EQ(after[i].index, before[i].index);
        EXPECT_EQ(after[i].value, before[i].value);
    }
}

TEST_F(TryIt, WithoutAModelThePanelSaysHowToGetOne) {
    window->startDocument(Document{});
    EXPECT_FALSE(panel()->hasModel());
    EXPECT_FALSE(panel()->runValidationSample(0).ok());
    QTemporaryDir dir;
    auto ok = window->exportTrainedModel(dir.filePath("x.strata.json"));
    ASSERT_FALSE(ok.ok());
    EXPECT_NE(ok.message().find("no trained model"), std::string::npos);
}

}  // namespace
}  // namespace strata::ui

namespace strata::ui {
namespace {

TEST_F(TryIt, TokenModelsTakeTypedTextAndRegressionsShowRawOutputs) {
    auto ok = window->openDocument(STRATA_SOURCE_DIR "/samples/reverse-transformer/reverse-transformer.strata.json");
    ASSERT_TRUE(ok.ok()) << ok.message();
    Dashboard* d = window->dashboard();
    d->deviceBox()->setCurrentText("cpu");
    QSignalSpy finished(d->session(), &TrainingSession::finished);
    ASSERT_TRUE(d->train(20)) << d->messageLabel()->text().toStdString();
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 240000);
    ASSERT_TRUE(panel()->hasModel());
    EXPECT_TRUE(panel()->sources()->isTabEnabled(3));   // Text
    EXPECT_FALSE(panel()->sources()->isTabEnabled(2));  // no drawing for token models
    ASSERT_TRUE(panel()->runText("3 1 4 1 5 9 2 6 5 3 5 8 9 7 9 3").ok());
    EXPECT_EQ(panel()->lastInput(),
              (std::vector<float>{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3}));
    EXPECT_EQ(panel()->results().size(), 5u);
    auto bad = panel()->runText("3 1 banana");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.message().find("\"banana\" is not in the model's vocabulary"), std::string::npos);

    ok = window->openDocument(STRATA_SOURCE_DIR "/samples/mlp-regression/mlp-regression.strata.json");
    ASSERT_TRUE(ok.ok()) << ok.message();
    EXPECT_FALSE(panel()->hasModel());  // a new document: the transformer is gone
    d->deviceBox()->setCurrentText("cpu");
    ASSERT_TRUE(d->train(20)) << d->messageLabel()->text().toStdString();
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 2, 240000);
    ASSERT_TRUE(panel()->hasModel());
    ASSERT_TRUE(panel()->runValidationSample(0).ok());
    ASSERT_EQ(panel()->runner()->kind(), ModelRunner::OutputKind::Raw);
    EXPECT_EQ(panel()->results().size(), 10u);  // every output, in order
    EXPECT_EQ(panel()->results()[3].index, 3);
    EXPECT_EQ(panel()->results()[3].value, panel()->runner()->lastLogits()[3]);
}

}  // namespace
}  // namespace strata::ui

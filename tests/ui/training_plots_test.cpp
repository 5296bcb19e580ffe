// The dashboard's views fed with known numbers: the best epoch is marked at the lowest
// validation loss, the EMA follows the smoothing, hovering names the nearest point, earlier runs
// stay faintly, the CSV holds exactly the numbers given, and a confusion cell lists its samples.
#include <gtest/gtest.h>

#include <QApplication>
#include <QFile>
#include <QImage>
#include <QListWidget>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <qcustomplot.h>

#include "ui/training/confusion_view.h"
#include "ui/training/loss_plot.h"

namespace strata::ui {
namespace {

void application() {
    static int argc = 1;
    static char name[] = "test_ui";
    static char* argv[] = {name, nullptr};
    if (QCoreApplication::instance()) return;
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QStandardPaths::setTestModeEnabled(true);
    new QApplication(argc, argv);
}

// Two epochs of 4 steps each; losses 4,3,2,1 then 1,1,1,1.
QVector<StepMetrics> steps(int from, int count, int epoch, float loss) {
    QVector<StepMetrics> out;
    for (int i = 0; i < count; ++i) {
        out.push_back({.step = from + i,
                       .epoch = epoch,
                       .loss = loss,
                       .learningRate = 0.01f * float(from + i),
                       .gradNorm = 0.5f,
                       .samplesPerSecond = 100});
    }
    return out;
}

EpochMetrics epoch(int e, int64_t step, double val, double valAcc = kNoValue) {
    EpochMetrics m;
    m.epoch = e;
    m.step = step;
    m.trainLoss = 1.0;
    m.trainAccuracy = 0.5;
    m.valLoss = val;
    m.valAccuracy = valAcc;
    return m;
}

TEST(LossPlot, MarksTheEpochWithTheLowestValidationLoss) {
    application();
    LossPlot plot;
    plot.resize(800, 400);
    EXPECT_EQ(plot.bestEpoch(), -1);
    EXPECT_FALSE(plot.bestMarker()->visible());
    const double val[] = {0.9, 0.4, 0.25, 0.6};
    for (int e = 0; e < 4; ++e) {
        plot.addSteps(steps(e * 10 + 1, 10, e, 1.0f));
        plot.addEpoch(epoch(e, (e + 1) * 10, val[e]));
    }
    EXPECT_EQ(plot.bestEpoch(), 2);
    ASSERT_TRUE(plot.bestMarker()->visible());
    EXPECT_DOUBLE_EQ(plot.bestMarker()->position->key(), 30.0);
    EXPECT_DOUBLE_EQ(plot.bestMarker()->position->value(), 0.25);
    EXPECT_TRUE(plot.bestLabel().contains("epoch 3")) << plot.bestLabel().toStdString();
    EXPECT_EQ(plot.valGraph()->data()->size(), 4);
    EXPECT_EQ(plot.trainAccuracyGraph()->data()->size(), 4);
    EXPECT_DOUBLE_EQ(plot.trainAccuracyGraph()->data()->at(0)->value, 50.0);  // percent
}

TEST(LossPlot, SmoothingRecomputesTheMovingAverage) {
    application();
    LossPlot plot;
    QVector<StepMetrics> s;
    for (int i = 1; i <= 4; ++i) s += steps(i, 1, 0, float(5 - i));  // 4, 3, 2, 1
    plot.addSteps(s);
    plot.setSmoothing(0.5);
    // 4, 0.5*4 + 0.5*3 = 3.5, 2.75, 1.875
    ASSERT_EQ(plot.emaGraph()->data()->size(), 4);
    EXPECT_DOUBLE_EQ(plot.emaGraph()->data()->at(3)->value, 1.875);
    plot.setSmoothing(0.0);
    EXPECT_DOUBLE_EQ(plot.emaGraph()->data()->at(3)->value, 1.0);
    // A non-finite loss is left out of the curves rather than wrecking the axes.
    plot.addSteps(steps(5, 1, 0, std::numeric_limits<float>::quiet_NaN()));
    EXPECT_EQ(plot.rawGraph()->data()->size(), 4);
    EXPECT_EQ(plot.learningRateGraph()->data()->size(), 5);
    plot.setLogScale(true);
    EXPECT_EQ(plot.plot()->yAxis->scaleType(), QCPAxis::stLogarithmic);
    EXPECT_GT(plot.plot()->yAxis->range().lower, 0.0);
}

TEST(LossPlot, HoverNamesTheNearestPoint) {
    application();
    LossPlot plot;
    plot.resize(800, 400);
    plot.show();
    QVector<StepMetrics> s;
    for (int i = 1; i <= 20; ++i) s += steps(i, 1, 0, float(i % 2 ? 2.0 : 1.0));
    plot.addSteps(s);
    plot.addEpoch(epoch(0, 20, 0.75));
    plot.plot()->replot();
    const QPointF val = plot.valGraph()->coordsToPixels(20, 0.75);
    QTest::mouseMove(plot.plot(), val.toPoint());
    EXPECT_EQ(plot.hoverText(), "validation loss · step 20: 0.75");
    const QString text = plot.hoverAt(plot.plot(), QPoint(5, 5));  // far from every curve
    EXPECT_TRUE(text.isEmpty()) << text.toStdString();
}

TEST(LossPlot, EarlierRunsStayFaintly) {
    application();
    LossPlot plot;
    plot.addSteps(steps(1, 5, 0, 2.0f));
    plot.addEpoch(epoch(0, 5, 1.5));
    plot.startRun();
    EXPECT_EQ(plot.earlierRunCount(), 1);
    EXPECT_EQ(plot.rawPointCount(), 0);
    EXPECT_EQ(plot.bestEpoch(), -1);
    // The earlier run's smoothed and validation loss are still drawn.
    EXPECT_EQ(plot.plot()->graphCount(), 3 + 2);
    EXPECT_EQ(plot.plot()->graph(3)->data()->size(), 5);
    for (int i = 0; i < LossPlot::kEarlierRuns + 2; ++i) {
        plot.addSteps(steps(1, 3, 0, 1.0f));
        plot.startRun();
    }
    EXPECT_EQ(plot.earlierRunCount(), LossPlot::kEarlierRuns);
    plot.clear();
    EXPECT_EQ(plot.earlierRunCount(), 0);
    EXPECT_EQ(plot.plot()->graphCount(), 3);
}

TEST(LossPlot, ExportsTheNumbersAsCsvAndThePlotsAsPng) {
    application();
    LossPlot plot;
    plot.setSmoothing(0.0);
    plot.addSteps(steps(1, 2, 0, 2.0f));
    plot.addEpoch(epoch(0, 2, 0.5, 0.75));
    plot.addSteps(steps(3, 1, 1, 1.0f));
    QTemporaryDir dir;
    ASSERT_TRUE(plot.exportCsv(dir.filePath("m.csv")).ok());
    QFile f(dir.filePath("m.csv"));
    ASSERT_TRUE(f.open(QIODevice::ReadOnly));
    EXPECT_EQ(QString(f.readAll()),
              "step,epoch,loss,loss_smoothed,learning_rate,grad_norm,samples_per_second,"
              "train_loss,train_accuracy,val_loss,val_accuracy\n"
              "1,1,2,2,0.01,0.5,100,,,,\n"
              "2,1,2,2,0.02,0.5,100,1,0.5,0.5,0.75\n"
              "3,2,1,1,0.03,0.5,100,,,,\n");
    EXPECT_FALSE(plot.exportCsv(dir.filePath("missing/m.csv")).ok());

    ASSERT_TRUE(plot.exportPng(dir.filePath("p.png")).ok());
    QImage image(dir.filePath("p.png"));
    ASSERT_FALSE(image.isNull());
    EXPECT_EQ(image.width(), 1200);
    // Not a blank picture: the curves and axes draw in more than one colour.
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 7)
        for (int x = 0; x < image.width(); x += 7) colours.insert(image.pixel(x, y));
    EXPECT_GT(colours.size(), 5);
}

TEST(ConfusionView, ClickingACellListsItsSamples) {
    application();
    ConfusionView view;
    view.resize(700, 400);
    view.show();
    int thumbnails = 0;
    view.setThumbnailSource([&](int64_t) {
        ++thumbnails;
        QImage img(8, 8, QImage::Format_RGB32);
        img.fill(Qt::gray);
        return img;
    });
    EpochMetrics m;
    m.epoch = 0;
    m.classes = 3;
    m.targets = {0, 1, 2, 1, 1, 2};
    m.predictions = {0, 2, 2, 2, 1, 0};
    m.confusion.assign(9, 0);
    for (size_t i = 0; i < m.targets.size(); ++i) ++m.confusion[size_t(m.targets[i] * 3 + m.predictions[i])];
    view.setEpoch(m, {"cat", "dog", "eel"});
    EXPECT_EQ(view.table()->verticalHeaderItem(1)->text(), "dog");
    EXPECT_EQ(view.table()->item(1, 2)->text(), "2");
    const QRect cell = view.table()->visualItemRect(view.table()->item(1, 2));
    QTest::mouseClick(view.table()->viewport(), Qt::LeftButton, {}, cell.center());
    ASSERT_EQ(view.sampleList()->count(), 2);  // samples 1 and 3: dogs taken for eels
    EXPECT_EQ(view.sampleList()->item(0)->data(Qt::UserRole).toLongLong(), 1);
    EXPECT_EQ(view.sampleList()->item(1)->data(Qt::UserRole).toLongLong(), 3);
    EXPECT_FALSE(view.sampleList()->item(0)->icon().isNull());
    EXPECT_EQ(thumbnails, 2);

    // Sequence outputs: rows are positions, listed with their sample.
    m.rowsPerSample = 3;
    view.setEpoch(m, {});
    const auto cellSamples = view.cellSamples(1, 2);
    ASSERT_EQ(cellSamples.size(), 2u);
    EXPECT_EQ(cellSamples[1], std::make_pair(int64_t(1), int64_t(0)));  // row 3
    view.showCell(1, 2);
    EXPECT_EQ(view.sampleList()->item(1)->text(), "#1 @0");
}

}  // namespace
}  // namespace strata::ui

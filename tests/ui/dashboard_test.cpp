// The training dashboard and attention view with real widgets: a sample trains on the CPU
// backend, the loss plot fills, and a Transformer's attention shows one heatmap per head.
#include <gtest/gtest.h>

#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QFile>
#include <qcustomplot.h>

#include "ui/main_window.h"
#include "ui/training/attention_view.h"
#include "ui/training/dashboard.h"
#include "ui/training/training_session.h"

namespace strata::ui {
namespace {

QApplication& application() {
    static int argc = 1;
    static char name[] = "test_ui";
    static char* argv[] = {name, nullptr};
    if (auto* existing = qobject_cast<QApplication*>(QCoreApplication::instance())) {
        return *existing;
    }
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QStandardPaths::setTestModeEnabled(true);
    QApplication::setOrganizationName("StrataTest");
    QApplication::setApplicationName("test_ui");
    return *new QApplication(argc, argv);
}

class Training : public ::testing::Test {
protected:
    void SetUp() override {
        application();
        MainWindow::Options o;
        o.interactive = false;
        o.offerRecovery = false;
        o.restoreSettings = false;
        window = std::make_unique<MainWindow>(o);
        window->resize(1400, 900);
        window->show();
    }
    void open(const QString& sample) {
        const QString path =
            QString(STRATA_SOURCE_DIR "/samples/%1/%1.strata.json").arg(sample);
        auto ok = window->openDocument(path);
        ASSERT_TRUE(ok.ok()) << (ok ? "" : ok.message());
        dashboard()->deviceBox()->setCurrentText("cpu");
    }
    Dashboard* dashboard() { return window->dashboard(); }
    std::unique_ptr<MainWindow> window;
};

TEST_F(Training, DigitsCnnTrainsOneEpochAndTheLossPlotFills) {
    open("digits-cnn");
    dashboard()->epochsBox()->setValue(1);
    QSignalSpy finished(dashboard()->session(), &TrainingSession::finished);
    QSignalSpy epochs(dashboard()->session(), &TrainingSession::epochEnded);
    QTest::mouseClick(dashboard()->trainButton(), Qt::LeftButton);
    ASSERT_TRUE(dashboard()->session()->isRunning()) << dashboard()->messageLabel()->text().toStdString();
    EXPECT_FALSE(dashboard()->trainButton()->isEnabled());
    EXPECT_TRUE(dashboard()->stopButton()->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 240000);
    EXPECT_EQ(finished.at(0).at(0).toString(), "completed");
    EXPECT_EQ(epochs.count(), 1);
    QCustomPlot* plot = dashboard()->lossPlot()->plot();
    const int steps = int(dashboard()->session()->stepsPerEpoch());
    EXPECT_GT(steps, 10);
    EXPECT_EQ(plot->graph(0)->data()->size(), steps);  // raw loss, one point per step
    EXPECT_EQ(plot->graph(1)->data()->size(), steps);  // its moving average
    EXPECT_EQ(plot->graph(2)->data()->size(), 1);      // validation loss of the epoch
    // The network learned something in one epoch: the smoothed loss fell below ln(10).
    EXPECT_LT((plot->graph(1)->data()->constEnd() - 1)->value, 2.0);
    EXPECT_EQ(dashboard()->progressBar()->value(), dashboard()->progressBar()->maximum());
    EXPECT_TRUE(dashboard()->trainButton()->isEnabled());
    EXPECT_TRUE(dashboard()->messageLabel()->isHidden());
}

TEST_F(Training, AFailedStartIsShownInTheDashboard) {
    window->startDocument(Document{});  // no dataset bound
    QTest::mouseClick(dashboard()->trainButton(), Qt::LeftButton);
    EXPECT_FALSE(dashboard()->session()->isRunning());
    EXPECT_FALSE(dashboard()->messageLabel()->isHidden());
    EXPECT_TRUE(dashboard()->messageLabel()->text().contains("dataset"));
}

TEST_F(Training, ReverseTransformerShowsOneHeatmapPerHead) {
    open("reverse-transformer");
    QSignalSpy finished(dashboard()->session(), &TrainingSession::finished);
    ASSERT_TRUE(dashboard()->train(30)) << dashboard()->messageLabel()->text().toStdString();
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 240000);
    AttentionView* view = dashboard()->attentionView();
    QTRY_VERIFY_WITH_TIMEOUT(view->layerBox()->count() == 2, 5000);  // encoder1, encoder2
    EXPECT_EQ(view->heatmapCount(), 4);
    view->headBox()->setCurrentIndex(2);  // head 2 alone
    EXPECT_EQ(view->heatmapCount(), 1);
    view->layerBox()->setCurrentIndex(1);
    EXPECT_EQ(view->heatmapCount(), 1);
    view->headBox()->setCurrentIndex(0);  // all
    EXPECT_EQ(view->heatmapCount(), 4);
}

TEST(AttentionViewAlone, DrawsTheSnapshotItIsGiven) {
    application();
    AttentionView view;
    view.resize(600, 400);
    AttentionSnapshot s{.node = "attn", .step = 7, .heads = 3, .queries = 2, .keys = 2};
    // (3, 2, 2): head h attends to key (q + h) % 2.
    for (int h = 0; h < 3; ++h)
        for (int q = 0; q < 2; ++q)
            for (int k = 0; k < 2; ++k) s.probabilities.push_back(k == (q + h) % 2 ? 1.f : 0.f);
    view.setSnapshots({s});
    ASSERT_EQ(view.heatmapCount(), 3);
    auto* second = qobject_cast<QCPColorMap*>(view.plot()->plottable(1));
    ASSERT_NE(second, nullptr);
    EXPECT_EQ(second->data()->cell(1, 0), 1.0);  // head 2, query 0 looks at key 1
    EXPECT_EQ(second->data()->cell(0, 0), 0.0);
}

// Not a check: with STRATA_STUDIO_SCREENSHOT=file.png, trains reverse-transformer a few hundred
// steps and saves the window (docs/images/studio.png).
TEST_F(Training, Screenshot) {
    const QString out = qEnvironmentVariable("STRATA_STUDIO_SCREENSHOT");
    if (out.isEmpty()) GTEST_SKIP() << "STRATA_STUDIO_SCREENSHOT not set";
    window->resize(1600, 1000);
    open("reverse-transformer");
    QSignalSpy finished(dashboard()->session(), &TrainingSession::finished);
    ASSERT_TRUE(dashboard()->train(400));
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 500000);
    QTest::qWait(300);
    ASSERT_TRUE(window->grab().save(out));
}

}  // namespace
}  // namespace strata::ui

// The training dashboard with real widgets: settings round-trip through the document, a sample
// trains on the CPU backend and every view fills (loss, EMA, validation, confusion matrix with
// its samples, exports), pause/resume/stop and checkpoints work, and a Transformer's attention
// shows one heatmap per head with its tokens on the axes.
#include <gtest/gtest.h>

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QLabel>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <numeric>
#include <qcustomplot.h>

#include "core/engine/backend.h"
#include "core/io/document.h"
#include "ui/main_window.h"
#include "ui/node_editor/editor_model.h"
#include "ui/training/attention_view.h"
#include "ui/training/confusion_view.h"
#include "ui/training/dashboard.h"
#include "ui/training/loss_plot.h"
#include "ui/training/training_session.h"
#include "ui_test_app.h"

namespace strata::ui {
namespace {

class Training : public ::testing::Test {
protected:
    void SetUp() override {
        application();
        applyStudioStyle();
        MainWindow::Options o = testWindowOptions();
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

TEST_F(Training, SettingsAreReadFromAndWrittenBackToTheDocument) {
    open("digits-cnn");
    Dashboard* d = dashboard();
    // The editors show the document's settings.
    const TrainingSettings& original = window->model()->document().training;
    EXPECT_EQ(d->epochsBox()->value(), original.epochs);
    EXPECT_EQ(d->batchBox()->value(), original.batchSize);
    EXPECT_EQ(d->optimizerBox()->currentText().toStdString(), original.optimizer.name);
    EXPECT_DOUBLE_EQ(d->learningRateBox()->value(), original.optimizer.learningRate);
    // The device box offers what createBackend accepts.
    for (const DeviceOption& o : availableDevices()) {
        EXPECT_GE(d->deviceBox()->findText(QString::fromStdString(o.name)), 0) << o.name;
    }

    d->epochsBox()->setValue(7);
    d->batchBox()->setValue(48);
    d->optimizerBox()->setCurrentText("sgd");
    d->learningRateBox()->setValue(0.0125);
    d->momentumBox()->setValue(0.8);
    d->nesterovBox()->setChecked(true);
    d->weightDecayBox()->setValue(5e-4);
    d->scheduleBox()->setCurrentText("step");
    d->stepSizeBox()->setValue(3);
    d->gammaBox()->setValue(0.5);
    d->warmupBox()->setValue(20);
    d->clipBox()->setValue(1.5);
    d->patienceBox()->setValue(2);
    d->seedBox()->setValue(1234);
    d->deviceBox()->setCurrentText("cpu");
    // Only what applies to the choice is shown.
    EXPECT_TRUE(d->momentumBox()->isVisibleTo(d));
    EXPECT_FALSE(d->beta1Box()->isVisibleTo(d));
    EXPECT_TRUE(d->stepSizeBox()->isVisibleTo(d));
    EXPECT_FALSE(d->minLearningRateBox()->isVisibleTo(d));

    const TrainingSettings& s = window->model()->document().training;
    EXPECT_EQ(s.epochs, 7);
    EXPECT_EQ(s.batchSize, 48);
    EXPECT_EQ(s.optimizer.name, "sgd");
    EXPECT_DOUBLE_EQ(s.optimizer.learningRate, 0.0125);
    EXPECT_DOUBLE_EQ(s.optimizer.momentum, 0.8);
    EXPECT_TRUE(s.optimizer.nesterov);
    EXPECT_DOUBLE_EQ(s.optimizer.weightDecay, 5e-4);
    EXPECT_EQ(s.schedule.kind, "step");
    EXPECT_EQ(s.schedule.stepSize, 3);
    EXPECT_DOUBLE_EQ(s.schedule.gamma, 0.5);
    EXPECT_EQ(s.schedule.warmupSteps, 20);
    EXPECT_DOUBLE_EQ(s.clipGradNorm, 1.5);
    EXPECT_EQ(s.earlyStoppingPatience, 2);
    EXPECT_EQ(s.seed, 1234u);
    EXPECT_EQ(s.device, "cpu");

    // Saving keeps them; opening the file shows them again.
    QTemporaryDir dir;
    const QString path = dir.filePath("settings.strata.json");
    ASSERT_TRUE(window->saveDocument(path).ok());
    auto read = readDocument(path.toStdString());
    ASSERT_TRUE(read.ok()) << read.message();
    EXPECT_EQ(read->training, s);
    window->startDocument(Document{});
    EXPECT_EQ(d->epochsBox()->value(), 10);  // a new document's defaults
    ASSERT_TRUE(window->openDocument(path).ok());
    EXPECT_EQ(d->epochsBox()->value(), 7);
    EXPECT_EQ(d->optimizerBox()->currentText(), "sgd");
    EXPECT_DOUBLE_EQ(d->momentumBox()->value(), 0.8);
    EXPECT_EQ(d->scheduleBox()->currentText(), "step");
    EXPECT_DOUBLE_EQ(d->clipBox()->value(), 1.5);
    // A tiny epsilon survives the editor (shown as 1e-08, not rounded to 0).
    d->optimizerBox()->setCurrentText("adam");
    d->epsBox()->setValue(1e-8);
    EXPECT_DOUBLE_EQ(window->model()->document().training.optimizer.eps, 1e-8);
    EXPECT_EQ(d->epsBox()->text(), "1e-08");
}

TEST_F(Training, DigitsCnnTrainsOneEpochAndEveryViewFills) {
    open("digits-cnn");
    dashboard()->epochsBox()->setValue(1);
    QSignalSpy finished(dashboard()->session(), &TrainingSession::finished);
    QSignalSpy epochs(dashboard()->session(), &TrainingSession::epochEnded);
    QTest::mouseClick(dashboard()->trainButton(), Qt::LeftButton);
    ASSERT_TRUE(dashboard()->session()->isRunning())
        << dashboard()->messageLabel()->text().toStdString();
    EXPECT_FALSE(dashboard()->trainButton()->isEnabled());
    EXPECT_TRUE(dashboard()->stopButton()->isEnabled());
    EXPECT_FALSE(dashboard()->epochsBox()->isEnabled());
    EXPECT_TRUE(dashboard()->learningRateBox()->isEnabled());  // editable while training
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 120000);
    EXPECT_EQ(finished.at(0).at(0).toString(), "completed");
    ASSERT_EQ(epochs.count(), 1);

    LossPlot* loss = dashboard()->lossPlot();
    const int steps = int(dashboard()->session()->stepsPerEpoch());
    EXPECT_GT(steps, 10);
    EXPECT_EQ(loss->rawGraph()->data()->size(), steps);  // raw loss, one point per step
    EXPECT_EQ(loss->emaGraph()->data()->size(), steps);  // its moving average
    EXPECT_EQ(loss->valGraph()->data()->size(), 1);      // validation loss of the epoch
    EXPECT_EQ(loss->learningRateGraph()->data()->size(), steps);
    EXPECT_EQ(loss->valAccuracyGraph()->data()->size(), 1);
    // The network learned something in one epoch: the smoothed loss fell below ln(10).
    EXPECT_LT((loss->emaGraph()->data()->constEnd() - 1)->value, 2.0);
    EXPECT_EQ(loss->bestEpoch(), 0);
    EXPECT_TRUE(loss->bestLabel().contains("epoch 1"));
    EXPECT_EQ(dashboard()->progressBar()->value(), dashboard()->progressBar()->maximum());
    EXPECT_TRUE(dashboard()->trainButton()->isEnabled());
    EXPECT_TRUE(dashboard()->messageLabel()->isHidden());

    // The confusion matrix covers the validation split exactly.
    const EpochMetrics m = epochs.at(0).at(0).value<EpochMetrics>();
    ConfusionView* cm = dashboard()->confusionView();
    EXPECT_EQ(dashboard()->tabs()->currentWidget(), cm);
    ASSERT_EQ(cm->classes(), 10);
    ASSERT_EQ(cm->table()->rowCount(), 10);
    EXPECT_EQ(cm->table()->horizontalHeaderItem(3)->text(), "3");
    int64_t sum = 0;
    for (int t = 0; t < 10; ++t)
        for (int p = 0; p < 10; ++p) sum += cm->cell(t, p);
    const int64_t validation = dashboard()->session()->validationSize();
    EXPECT_GT(validation, 0);
    EXPECT_EQ(sum, validation);
    EXPECT_EQ(int64_t(m.predictions.size()), validation);

    // Clicking a cell lists its samples: the largest off-diagonal cell if any, else a diagonal.
    int bestT = 0, bestP = 0;
    for (int t = 0; t < 10; ++t)
        for (int p = 0; p < 10; ++p)
            if (cm->cell(t, p) > cm->cell(bestT, bestP) && (t != p || bestT == bestP))
                bestT = t, bestP = p;
    dashboard()->tabs()->setCurrentWidget(cm);
    QTableWidget* table = cm->table();
    const QRect cell = table->visualItemRect(table->item(bestT, bestP));
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, cell.center());
    EXPECT_EQ(cm->sampleList()->count(), cm->cell(bestT, bestP));
    ASSERT_GT(cm->sampleList()->count(), 0);
    // Digits are images: the listed samples carry a thumbnail.
    EXPECT_FALSE(cm->sampleList()->item(0)->icon().isNull());
    const int64_t sample = cm->sampleList()->item(0)->data(Qt::UserRole).toLongLong();
    EXPECT_EQ(m.targets[size_t(sample)], bestT);
    EXPECT_EQ(m.predictions[size_t(sample)], bestP);

    // Exports.
    QTemporaryDir dir;
    ASSERT_TRUE(dashboard()->exportCsv(dir.filePath("run.csv")).ok());
    QFile csv(dir.filePath("run.csv"));
    ASSERT_TRUE(csv.open(QIODevice::ReadOnly));
    const QStringList lines = QString(csv.readAll()).split('\n', Qt::SkipEmptyParts);
    ASSERT_EQ(lines.size(), steps + 1);
    EXPECT_TRUE(lines[0].startsWith("step,epoch,loss,loss_smoothed,learning_rate"));
    const QStringList last = lines.back().split(',');
    ASSERT_EQ(last.size(), 11);
    EXPECT_EQ(last[0].toInt(), steps);
    EXPECT_NEAR(last[9].toDouble(), m.valLoss, 1e-5 * std::max(1.0, m.valLoss));
    EXPECT_NEAR(last[10].toDouble(), m.valAccuracy, 1e-6);
    EXPECT_TRUE(lines[1].split(',')[9].isEmpty());  // no validation before the epoch ends
    ASSERT_TRUE(dashboard()->exportPlotsPng(dir.filePath("plots.png")).ok());
    QImage png(dir.filePath("plots.png"));
    ASSERT_FALSE(png.isNull());
    EXPECT_GT(png.width(), 600);
    ASSERT_TRUE(dashboard()->exportConfusionPng(dir.filePath("confusion.png")).ok());
    EXPECT_FALSE(QImage(dir.filePath("confusion.png")).isNull());

    // A checkpoint of the finished run.
    ASSERT_TRUE(dashboard()->checkpointButton()->isEnabled());
    ASSERT_TRUE(dashboard()->saveCheckpoint(dir.filePath("run.ckpt")).ok());
    EXPECT_GT(QFileInfo(dir.filePath("run.ckpt")).size(), 1000);
}

TEST_F(Training, PauseResumeStopAndCheckpointWhilePaused) {
    open("digits-cnn");
    dashboard()->epochsBox()->setValue(50);
    QSignalSpy paused(dashboard()->session(), &TrainingSession::pausedChanged);
    QSignalSpy finished(dashboard()->session(), &TrainingSession::finished);
    QSignalSpy saved(dashboard()->session(), &TrainingSession::checkpointSaved);
    ASSERT_TRUE(dashboard()->train()) << dashboard()->messageLabel()->text().toStdString();
    QTRY_VERIFY_WITH_TIMEOUT(dashboard()->lossPlot()->rawPointCount() > 0, 30000);

    QTest::mouseClick(dashboard()->pauseButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(dashboard()->session()->isPaused(), 10000);
    EXPECT_EQ(dashboard()->pauseButton()->text(), "Resume");
    QTest::qWait(150);
    const int pausedAt = dashboard()->lossPlot()->rawPointCount();
    QTest::qWait(200);
    EXPECT_EQ(dashboard()->lossPlot()->rawPointCount(), pausedAt);  // nothing trains

    QTemporaryDir dir;
    const QString ckpt = dir.filePath("paused.ckpt");
    ASSERT_TRUE(dashboard()->saveCheckpoint(ckpt).ok());
    QTRY_VERIFY_WITH_TIMEOUT(saved.count() == 1, 10000);
    EXPECT_TRUE(QFileInfo::exists(ckpt));

    // The learning rate changes while training.
    dashboard()->learningRateBox()->setValue(0.0005);
    QTest::mouseClick(dashboard()->pauseButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!dashboard()->session()->isPaused(), 10000);
    EXPECT_EQ(dashboard()->pauseButton()->text(), "Pause");
    QTRY_VERIFY_WITH_TIMEOUT(dashboard()->lossPlot()->rawPointCount() > pausedAt + 2, 30000);
    const auto lr = dashboard()->lossPlot()->learningRateGraph()->data();
    EXPECT_NEAR((lr->constEnd() - 1)->value, 0.0005, 1e-9);

    QTest::mouseClick(dashboard()->stopButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 30000);
    EXPECT_EQ(finished.at(0).at(0).toString(), "stopped");
    EXPECT_FALSE(dashboard()->session()->isRunning());
    EXPECT_TRUE(dashboard()->trainButton()->isEnabled());
    EXPECT_FALSE(dashboard()->pauseButton()->isEnabled());
    EXPECT_GE(paused.count(), 2);

    // A second run keeps the first one faintly.
    EXPECT_EQ(dashboard()->lossPlot()->earlierRunCount(), 0);
    ASSERT_TRUE(dashboard()->train(3));
    EXPECT_EQ(dashboard()->lossPlot()->earlierRunCount(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 2, 30000);
}

TEST_F(Training, ADivergingRunPausesWithTheRemedyAndKeepsTheGraph) {
    open("mlp-regression");
    const size_t nodes = window->model()->graph().nodes().size();
    dashboard()->optimizerBox()->setCurrentText("sgd");
    dashboard()->learningRateBox()->setValue(10);  // far too high: the loss overflows
    dashboard()->momentumBox()->setValue(0.9);
    dashboard()->epochsBox()->setValue(20);
    QSignalSpy problems(dashboard()->session(), &TrainingSession::problem);
    ASSERT_TRUE(dashboard()->train()) << dashboard()->messageLabel()->text().toStdString();
    QTRY_VERIFY_WITH_TIMEOUT(problems.count() >= 1, 30000);
    EXPECT_TRUE(dashboard()->session()->isPaused());
    EXPECT_TRUE(dashboard()->session()->isRunning());
    EXPECT_FALSE(dashboard()->messageLabel()->isHidden());
    const QString text = dashboard()->messageLabel()->text();
    EXPECT_TRUE(text.contains("learning rate")) << text.toStdString();
    // The weights of the last good step are there; the graph is untouched.
    EXPECT_FALSE(dashboard()->session()->weights().empty());
    EXPECT_EQ(window->model()->graph().nodes().size(), nodes);
    QTest::mouseClick(dashboard()->stopButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!dashboard()->session()->isRunning(), 10000);
}

TEST_F(Training, AFailedStartIsShownInTheDashboard) {
    window->startDocument(Document{});  // no dataset bound
    QTest::mouseClick(dashboard()->trainButton(), Qt::LeftButton);
    EXPECT_FALSE(dashboard()->session()->isRunning());
    EXPECT_FALSE(dashboard()->messageLabel()->isHidden());
    EXPECT_TRUE(dashboard()->messageLabel()->text().contains("dataset"));
}

TEST_F(Training, ReverseTransformerShowsOneHeatmapPerHeadWithTokens) {
    open("reverse-transformer");
    QSignalSpy finished(dashboard()->session(), &TrainingSession::finished);
    ASSERT_TRUE(dashboard()->train(30)) << dashboard()->messageLabel()->text().toStdString();
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 60000);
    AttentionView* view = dashboard()->attentionView();
    QTRY_VERIFY_WITH_TIMEOUT(view->layerBox()->count() == 2, 5000);  // encoder1, encoder2
    EXPECT_EQ(dashboard()->tabs()->currentWidget(), view);
    EXPECT_EQ(view->heatmapCount(), 4);
    // The sample's tokens label both axes.
    const QStringList tokens = dashboard()->session()->attentionTokens();
    ASSERT_FALSE(tokens.isEmpty());
    // Each position shown is labelled with its token; the first always is.
    auto matches = [&](const QStringList& labels) {
        if (labels.size() != tokens.size() || labels[0] != tokens[0]) return false;
        int shown = 0;
        for (int i = 0; i < labels.size(); ++i) {
            if (labels[i].isEmpty()) continue;
            if (labels[i] != tokens[i]) return false;
            ++shown;
        }
        return shown >= 4;
    };
    EXPECT_TRUE(matches(view->keyLabels(0))) << view->keyLabels(0).join(' ').toStdString();
    EXPECT_TRUE(matches(view->queryLabels(3))) << view->queryLabels(3).join(' ').toStdString();
    view->headBox()->setCurrentIndex(2);  // head 2 alone
    EXPECT_EQ(view->heatmapCount(), 1);
    view->layerBox()->setCurrentIndex(1);
    EXPECT_EQ(view->heatmapCount(), 1);
    EXPECT_EQ(view->keyLabels(0), tokens);  // one big map: room for every token
    view->headBox()->setCurrentIndex(0);  // all
    EXPECT_EQ(view->heatmapCount(), 4);
    QTemporaryDir dir;
    ASSERT_TRUE(dashboard()->exportAttentionPng(dir.filePath("attention.png")).ok());
    EXPECT_FALSE(QImage(dir.filePath("attention.png")).isNull());
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
    view.setTokens({"a", "b"});
    view.setSnapshots({s});
    ASSERT_EQ(view.heatmapCount(), 3);
    auto* second = qobject_cast<QCPColorMap*>(view.plot()->plottable(1));
    ASSERT_NE(second, nullptr);
    EXPECT_EQ(second->data()->cell(1, 0), 1.0);  // head 2, query 0 looks at key 1
    EXPECT_EQ(second->data()->cell(0, 0), 0.0);
    EXPECT_EQ(view.keyLabels(1), QStringList({"a", "b"}));
    view.setTokens({"x", "y", "z"});  // not this snapshot's length: positions are numbered
    EXPECT_EQ(view.keyLabels(1), QStringList({"0", "1"}));
}

// Not a check: with STRATA_STUDIO_SCREENSHOT=file.png, trains reverse-transformer a few hundred
// steps and saves the window (docs/images/studio.png); with STRATA_DASHBOARD_SCREENSHOT=file.png,
// trains digits-cnn three epochs and saves the dashboard (docs/images/dashboard.png).
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

TEST_F(Training, DashboardScreenshot) {
    const QString out = qEnvironmentVariable("STRATA_DASHBOARD_SCREENSHOT");
    if (out.isEmpty()) GTEST_SKIP() << "STRATA_DASHBOARD_SCREENSHOT not set";
    window->resize(1600, 1000);
    open("digits-cnn");
    QSignalSpy finished(dashboard()->session(), &TrainingSession::finished);
    // An earlier run to compare with, then the one shown.
    dashboard()->epochsBox()->setValue(2);
    dashboard()->learningRateBox()->setValue(0.0003);
    ASSERT_TRUE(dashboard()->train());
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 500000);
    dashboard()->epochsBox()->setValue(4);
    dashboard()->learningRateBox()->setValue(0.002);
    ASSERT_TRUE(dashboard()->train());
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 2, 500000);
    // The most frequent confusion, listed.
    ConfusionView* cm = dashboard()->confusionView();
    int bestT = 0, bestP = 1;
    for (int t = 0; t < 10; ++t)
        for (int p = 0; p < 10; ++p)
            if (t != p && cm->cell(t, p) > cm->cell(bestT, bestP)) bestT = t, bestP = p;
    cm->showCell(bestT, bestP);
    auto* dock = qobject_cast<QDockWidget*>(dashboard()->parentWidget());
    ASSERT_NE(dock, nullptr);
    window->resizeDocks({dock}, {470}, Qt::Vertical);
    QTest::qWait(300);
    LossPlot* loss = dashboard()->lossPlot();
    loss->plot()->replot();
    const auto ema = loss->emaGraph()->data();
    const auto point = ema->at(ema->size() / 3);
    loss->hoverAt(loss->plot(),
                  loss->emaGraph()->coordsToPixels(point->key, point->value).toPoint());
    loss->plot()->replot();
    QTest::qWait(100);
    ASSERT_TRUE(dashboard()->grab().save(out));
    // The other tabs, for a look (not committed).
    for (int i = 0; i < dashboard()->tabs()->count(); ++i) {
        dashboard()->tabs()->setCurrentIndex(i);
        QTest::qWait(100);
        dashboard()->grab().save(QDir::temp().filePath(QString("dashboard-tab%1.png").arg(i)));
    }
}

}  // namespace
}  // namespace strata::ui


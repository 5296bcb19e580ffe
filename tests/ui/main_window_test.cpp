// The main window as a person meets it: the start page, the status bar, the unsaved-changes
// prompt, autosave and the offer to restore after a crash, and what persists between sessions
// (window geometry, dock layout, recent files). Dialogs are answered by clicking their buttons.
#include <gtest/gtest.h>

#include <QAbstractButton>
#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFile>
#include <QLabel>
#include <QListWidget>
#include <QLockFile>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <filesystem>
#include <functional>

#include <sys/wait.h>
#include <unistd.h>

#include "ui/main_window.h"
#include "ui/node_editor/commands.h"
#include "ui/node_editor/graph_scene.h"
#include "ui/training/dashboard.h"
#include "ui/training/training_session.h"
#include "ui_test_app.h"

namespace strata::ui {
namespace {

bool waitUntil(const std::function<bool()>& done, int ms = 5000) {
    QElapsedTimer clock;
    clock.start();
    while (!done()) {
        if (clock.elapsed() > ms) return false;
        QTest::qWait(10);
    }
    return true;
}

// Clicks `button` on the next message box as soon as it is shown, and keeps its text.
class MessageBoxAnswer {
public:
    explicit MessageBoxAnswer(QMessageBox::StandardButton button) {
        QObject::connect(&m_timer, &QTimer::timeout, [this, button] {
            auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
            if (!box) return;
            m_text = box->text();
            m_timer.stop();
            box->button(button)->click();
        });
        m_timer.start(10);
    }
    const QString& text() const { return m_text; }  // empty: no box was shown

private:
    QTimer m_timer;
    QString m_text;
};

class Studio : public ::testing::Test {
protected:
    // Settings and the recovery file of this process alone: ctest runs tests side by side.
    void SetUp() override {
        application();
        QCoreApplication::setApplicationName(
            QString("test_ui_studio_%1").arg(QCoreApplication::applicationPid()));
        QSettings().clear();
        QDir(MainWindow::recoveryDir()).removeRecursively();
    }
    void TearDown() override {
        QSettings settings;
        settings.clear();
        settings.sync();
        QFile::remove(settings.fileName());
        QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).removeRecursively();
        QCoreApplication::setApplicationName("test_ui");
    }

    static std::unique_ptr<MainWindow> makeWindow(bool interactive, bool offerRecovery = false,
                                                  bool restoreSettings = false) {
        MainWindow::Options o;
        o.interactive = interactive;
        o.offerRecovery = offerRecovery;
        o.restoreSettings = restoreSettings;
        auto w = std::make_unique<MainWindow>(o);
        w->resize(1300, 850);
        w->show();
        return w;
    }

    // input (4) -> linear, a graph with something to lose.
    static void build(MainWindow& w) {
        w.startDocument(Document{});
        auto in = w.scene()->addLayer("input", {0, 0});
        auto fc = w.scene()->addLayer("linear", {300, 0});
        ASSERT_TRUE(in.ok() && fc.ok());
        ASSERT_TRUE(w.model()->push(new SetParamCommand(w.model(), *in, "shape",
                                                        std::vector<int64_t>{4})).ok());
        ASSERT_TRUE(w.model()->push(new ConnectCommand(w.model(), {*in, "out"}, {*fc, "in"})).ok());
    }

    static QString sample(const QString& name) {
        return QString(STRATA_SOURCE_DIR "/samples/%1/%1.strata.json").arg(name);
    }
};

TEST_F(Studio, TheStatusBarShowsTotalsDeviceAndTrainingState) {
    auto w = makeWindow(false);
    ASSERT_TRUE(w->openDocument(sample("digits-cnn")).ok());
    const GraphAnalysis& a = w->model()->analysis();
    ASSERT_GT(a.parameters, 0);
    const QString totals = w->totalsLabel()->text();
    EXPECT_TRUE(totals.contains("Parameters " + compactCount(a.parameters)))
        << totals.toStdString();
    EXPECT_TRUE(totals.contains("FLOPs " + compactCount(a.flops))) << totals.toStdString();
    EXPECT_TRUE(totals.contains("Activations " + byteText(a.activationBytes)))
        << totals.toStdString();
    EXPECT_EQ(w->stateLabel()->text(), "Ready to train");
    EXPECT_EQ(w->trainingLabel()->text(), "Not trained");
    EXPECT_TRUE(w->deviceLabel()->text().startsWith("Device: auto"))
        << w->deviceLabel()->text().toStdString();
    w->dashboard()->deviceBox()->setCurrentText("cpu");
    EXPECT_EQ(w->deviceLabel()->text(), "Device: cpu");

    // A short run: the status bar names the device it ran on and how it ended.
    QSignalSpy finished(w->dashboard()->session(), &TrainingSession::finished);
    ASSERT_TRUE(w->dashboard()->train(2));
    EXPECT_TRUE(w->trainingLabel()->text().startsWith("Training on"))
        << w->trainingLabel()->text().toStdString();
    ASSERT_TRUE(waitUntil([&] { return finished.count() == 1; }, 60000));
    EXPECT_TRUE(w->trainingLabel()->text().startsWith("Training "))
        << w->trainingLabel()->text().toStdString();
    EXPECT_NE(w->trainingLabel()->text(), "Not trained");
    EXPECT_TRUE(w->deviceLabel()->text().contains("CPU ("))
        << w->deviceLabel()->text().toStdString();

    // An edit changes the totals at once, and the state says the document is modified.
    const QString before = w->totalsLabel()->text();
    const NodeId conv = w->model()->graph().nodeByName("conv1")->id;
    ASSERT_TRUE(w->model()->push(new SetParamCommand(w->model(), conv, "out_channels",
                                                     int64_t{32})).ok());
    EXPECT_NE(w->totalsLabel()->text(), before);
    EXPECT_TRUE(w->stateLabel()->text().contains("modified"));
}

TEST_F(Studio, TheStartPageOffersNewTemplatesSamplesAndRecentFiles) {
    auto w = makeWindow(false);
    EXPECT_TRUE(w->startPageShown());
    for (const char* name : {"newEmpty", "template_mlp", "template_lenet5", "template_char_lstm",
                             "template_transformer"}) {
        EXPECT_NE(w->findChild<QPushButton*>(name), nullptr) << name;
    }
    QTest::mouseClick(w->findChild<QPushButton*>("newEmpty"), Qt::LeftButton);
    EXPECT_FALSE(w->startPageShown());
    EXPECT_TRUE(w->model()->graph().empty());

    w->showStartPage();
    auto* samples = w->findChild<QListWidget*>("samplesList");
    ASSERT_NE(samples, nullptr);
    auto found = samples->findItems("digits-cnn", Qt::MatchExactly);
    ASSERT_EQ(found.size(), 1);
    QTest::mouseClick(samples->viewport(), Qt::LeftButton, {},
                      samples->visualItemRect(found[0]).center());
    EXPECT_FALSE(w->startPageShown());
    EXPECT_TRUE(w->documentPath().endsWith("digits-cnn.strata.json"));
    EXPECT_NE(w->model()->graph().nodeByName("conv1"), nullptr);

    // Opening it made it a recent file, listed on the start page.
    w->showStartPage();
    auto* recent = w->findChild<QListWidget*>("recentList");
    ASSERT_NE(recent, nullptr);
    ASSERT_GE(recent->count(), 1);
    EXPECT_EQ(recent->item(0)->text(), "digits-cnn.strata.json");
}

TEST_F(Studio, ClosingWithUnsavedChangesAsksAndCancelKeepsTheWork) {
    auto w = makeWindow(true);
    build(*w);
    ASSERT_TRUE(w->isModified());
    {
        MessageBoxAnswer cancel(QMessageBox::Cancel);
        EXPECT_FALSE(w->close());
        EXPECT_TRUE(cancel.text().contains("unsaved changes")) << cancel.text().toStdString();
    }
    EXPECT_TRUE(w->isVisible());
    EXPECT_EQ(w->model()->graph().nodes().size(), 2u);

    // Save writes the document before closing.
    QTemporaryDir dir;
    const QString path = dir.filePath("work.strata.json");
    ASSERT_TRUE(w->saveDocument(path).ok());
    ASSERT_TRUE(w->scene()->addLayer("relu", {600, 0}).ok());
    {
        MessageBoxAnswer save(QMessageBox::Save);
        EXPECT_TRUE(w->close());
        EXPECT_FALSE(save.text().isEmpty());
    }
    auto doc = readDocument(path.toStdString());
    ASSERT_TRUE(doc.ok());
    EXPECT_EQ(doc->graph.nodes().size(), 3u);

    // Discard closes without writing; an unmodified document closes without asking.
    auto other = makeWindow(true);
    build(*other);
    {
        MessageBoxAnswer discard(QMessageBox::Discard);
        EXPECT_TRUE(other->close());
        EXPECT_FALSE(discard.text().isEmpty());
    }
    auto clean = makeWindow(true);
    clean->startDocument(Document{});
    MessageBoxAnswer none(QMessageBox::Cancel);
    EXPECT_TRUE(clean->close());
    EXPECT_TRUE(none.text().isEmpty());
}

TEST_F(Studio, AutosaveLetsTheNextSessionRestoreTheWorkAfterACrash) {
    Graph lost;
    std::map<std::string, NodeLayout> lostLayout;
    QString crashed;
    {
        auto w = makeWindow(false);
        build(*w);
        w->autosave();
        crashed = w->recoveryPath();
        ASSERT_TRUE(QFile::exists(crashed));
        lost = w->model()->graph();
        lostLayout = w->model()->document().layout;
        // Destroyed without being closed, as by a crash.
    }
    auto w = makeWindow(true, /*offerRecovery=*/true);
    MessageBoxAnswer yes(QMessageBox::Yes);
    ASSERT_TRUE(waitUntil([&] { return !w->model()->graph().empty(); }));
    EXPECT_TRUE(yes.text().contains("Restore")) << yes.text().toStdString();
    EXPECT_TRUE(w->model()->graph() == lost);
    EXPECT_EQ(w->model()->document().layout, lostLayout);
    EXPECT_FALSE(w->startPageShown());
    // Restored work is unsaved work.
    EXPECT_TRUE(w->isModified());
    EXPECT_TRUE(w->isWindowModified());

    // Once saved there is nothing to recover, and the next session does not ask.
    QTemporaryDir dir;
    // Restored work is protected by this studio's own recovery file at once.
    EXPECT_NE(w->recoveryPath(), crashed);
    EXPECT_FALSE(QFile::exists(crashed));
    EXPECT_TRUE(QFile::exists(w->recoveryPath()));
    ASSERT_TRUE(w->saveDocument(dir.filePath("restored.strata.json")).ok());
    EXPECT_FALSE(QFile::exists(w->recoveryPath()));
    w->autosave();
    EXPECT_FALSE(QFile::exists(w->recoveryPath()));
    EXPECT_TRUE(MainWindow::staleRecoveryFiles().isEmpty());
}

TEST_F(Studio, DecliningTheRestoreForgetsTheRecoveryFile) {
    QString crashed;
    {
        auto w = makeWindow(false);
        build(*w);
        w->autosave();
        crashed = w->recoveryPath();
    }
    ASSERT_TRUE(QFile::exists(crashed));
    auto w = makeWindow(true, /*offerRecovery=*/true);
    MessageBoxAnswer no(QMessageBox::No);
    ASSERT_TRUE(waitUntil([&] { return !no.text().isEmpty(); }));
    EXPECT_FALSE(QFile::exists(crashed));
    EXPECT_TRUE(MainWindow::staleRecoveryFiles().isEmpty());
    EXPECT_TRUE(w->model()->graph().empty());
    EXPECT_TRUE(w->startPageShown());
}

TEST_F(Studio, TwoStudiosKeepSeparateRecoveryFilesAndOnlyACrashedOneIsOffered) {
    QTemporaryDir dir;
    const QString firstPath = dir.filePath("first.strata.json");
    const QString secondPath = dir.filePath("second.strata.json");
    auto first = makeWindow(false);
    auto second = makeWindow(false);
    ASSERT_NE(first->recoveryPath(), second->recoveryPath());

    // Two different unsaved graphs, each begun from a saved file.
    build(*first);
    ASSERT_TRUE(first->saveDocument(firstPath).ok());
    ASSERT_TRUE(first->scene()->addLayer("relu", {600, 0}).ok());
    second->startDocument(Document{});
    ASSERT_TRUE(second->saveDocument(secondPath).ok());
    ASSERT_TRUE(second->scene()->addLayer("flatten", {0, 0}).ok());
    first->autosave();
    second->autosave();
    const Graph firstGraph = first->model()->graph();
    const Graph secondGraph = second->model()->graph();
    ASSERT_FALSE(firstGraph == secondGraph);

    // Each file holds its own studio's work: the second autosave did not overwrite the first.
    auto firstSaved = readDocument(first->recoveryPath().toStdString());
    auto secondSaved = readDocument(second->recoveryPath().toStdString());
    ASSERT_TRUE(firstSaved.ok() && secondSaved.ok());
    EXPECT_TRUE(firstSaved->graph == firstGraph);
    EXPECT_TRUE(secondSaved->graph == secondGraph);
    // Both studios are alive: nothing is offered.
    EXPECT_TRUE(MainWindow::staleRecoveryFiles().isEmpty());

    // The first studio crashes; the second keeps running.
    const QString crashed = first->recoveryPath();
    first.reset();
    EXPECT_EQ(MainWindow::staleRecoveryFiles(), QStringList{crashed});

    // A studio started now offers the crashed one's work, and only that.
    auto third = makeWindow(true, /*offerRecovery=*/true);
    EXPECT_NE(third->recoveryPath(), second->recoveryPath());
    EXPECT_NE(third->recoveryPath(), crashed);
    MessageBoxAnswer yes(QMessageBox::Yes);
    ASSERT_TRUE(waitUntil([&] { return !yes.text().isEmpty(); }));
    EXPECT_TRUE(yes.text().contains("first.strata.json")) << yes.text().toStdString();
    EXPECT_TRUE(third->model()->graph() == firstGraph);
    EXPECT_EQ(third->documentPath(), QFileInfo(firstPath).absoluteFilePath());
    MessageBoxAnswer noMore(QMessageBox::No);
    QTest::qWait(300);
    EXPECT_TRUE(noMore.text().isEmpty()) << noMore.text().toStdString();

    // The running studio's recovery is untouched and still its own.
    auto stillSecond = readDocument(second->recoveryPath().toStdString());
    ASSERT_TRUE(stillSecond.ok());
    EXPECT_TRUE(stillSecond->graph == secondGraph);
    EXPECT_TRUE(second->model()->graph() == secondGraph);
    EXPECT_TRUE(MainWindow::staleRecoveryFiles().isEmpty());
}

TEST_F(Studio, ARecoveryLockLeftByADeadProcessIsStaleAndALiveOneIsNot) {
    auto live = makeWindow(false);
    build(*live);
    live->autosave();
    ASSERT_TRUE(QFile::exists(live->recoveryPath()));

    // What a crashed studio leaves: its recovery file and a lock naming a process that is gone.
    const QString crashed = MainWindow::recoveryDir() + "/recovery-7.strata.json";
    ASSERT_TRUE(QFile::copy(live->recoveryPath(), crashed));
    const QString lockPath = MainWindow::recoveryDir() + "/recovery-7.lock";
    QByteArray contents;
    {
        QLockFile lock(lockPath);
        ASSERT_TRUE(lock.tryLock(0));
        QFile f(lockPath);
        ASSERT_TRUE(f.open(QIODevice::ReadOnly));
        contents = f.readAll();
    }
    const pid_t gone = fork();
    ASSERT_GE(gone, 0);
    if (gone == 0) _exit(0);
    ASSERT_EQ(waitpid(gone, nullptr, 0), gone);
    const qsizetype firstLine = contents.indexOf('\n');
    ASSERT_GT(firstLine, 0);
    contents.replace(0, firstLine, QByteArray::number(gone));
    {
        QFile f(lockPath);
        ASSERT_TRUE(f.open(QIODevice::WriteOnly));
        f.write(contents);
    }
    // An old live lock stays live (a studio open for hours still owns its slot).
    const QString liveLock = QString(live->recoveryPath()).replace(".strata.json", ".lock");
    ASSERT_TRUE(QFile::exists(liveLock));
    std::filesystem::last_write_time(liveLock.toStdString(),
                                     std::filesystem::file_time_type::clock::now() -
                                         std::chrono::hours(1));

    EXPECT_EQ(MainWindow::staleRecoveryFiles(), QStringList{crashed});
    // A new studio does not take the crashed slot (its document waits to be offered).
    auto next = makeWindow(false);
    EXPECT_NE(next->recoveryPath(), crashed);
    EXPECT_NE(next->recoveryPath(), live->recoveryPath());
    EXPECT_TRUE(QFile::exists(crashed));
}

TEST_F(Studio, TheSingleRecoveryFileOfTheVersionBeforeSlotsIsStillOffered) {
    auto w = makeWindow(false);
    build(*w);
    w->autosave();
    // What the previous version left after a crash: one file beside the slots' folder, and the
    // document's origin in the settings.
    const QString legacy =
        QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/recovery.strata.json";
    ASSERT_TRUE(QFile::copy(w->recoveryPath(), legacy));
    QSettings().setValue("recovery/path", "/home/someone/net.strata.json");

    const QStringList stale = MainWindow::staleRecoveryFiles();
    ASSERT_EQ(stale.size(), 1) << stale.join(", ").toStdString();
    EXPECT_TRUE(stale[0].startsWith(MainWindow::recoveryDir()));
    EXPECT_NE(stale[0], w->recoveryPath());
    EXPECT_FALSE(QFile::exists(legacy));
    QFile origin(QString(stale[0]).replace(".strata.json", ".origin"));
    ASSERT_TRUE(origin.open(QIODevice::ReadOnly));
    EXPECT_EQ(origin.readAll(), QByteArray("/home/someone/net.strata.json"));
    EXPECT_FALSE(QSettings().contains("recovery/path"));
}

TEST_F(Studio, WindowGeometryDockLayoutAndRecentFilesPersist) {
    QTemporaryDir dir;
    const QString path = dir.filePath("kept.strata.json");
    {
        auto w = makeWindow(false, false, /*restoreSettings=*/true);
        w->resize(1111, 777);
        w->findChild<QDockWidget*>("problemsDock")->hide();
        build(*w);
        ASSERT_TRUE(w->saveDocument(path).ok());
        ASSERT_TRUE(w->close());
    }
    // The restored size is what the constructor set (makeWindow would resize it).
    auto fresh = std::make_unique<MainWindow>(MainWindow::Options{false, false, true});
    EXPECT_EQ(fresh->size(), QSize(1111, 777));
    fresh->show();
    EXPECT_TRUE(fresh->findChild<QDockWidget*>("problemsDock")->isHidden());
    EXPECT_FALSE(fresh->findChild<QDockWidget*>("inspectorDock")->isHidden());

    auto* recent = fresh->findChild<QListWidget*>("recentList");
    ASSERT_EQ(recent->count(), 1);
    EXPECT_EQ(recent->item(0)->text(), "kept.strata.json");
    QMenu* file = fresh->menuBar()->actions().at(0)->menu();
    QMenu* recentMenu = nullptr;
    for (QAction* a : file->actions()) {
        if (a->menu() && a->text() == "Open &Recent") recentMenu = a->menu();
    }
    ASSERT_NE(recentMenu, nullptr);
    ASSERT_EQ(recentMenu->actions().size(), 1);
    recentMenu->actions().at(0)->trigger();
    EXPECT_EQ(fresh->documentPath(), QFileInfo(path).absoluteFilePath());
    EXPECT_EQ(fresh->model()->graph().nodes().size(), 2u);
}

}  // namespace
}  // namespace strata::ui

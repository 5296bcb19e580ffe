// The studio: a QApplication around the main window, opening the document given on the command
// line. STRATA_SCREENSHOT=file.png grabs the window once it is shown and quits (docs/images;
// scripts/screenshots.sh). Before the grab, optionally: STRATA_SCREENSHOT_SIZE=WxH resizes the
// window, STRATA_SCREENSHOT_SELECT=node selects a node, STRATA_SCREENSHOT_TRAIN_STEPS=N trains
// that many steps, STRATA_SCREENSHOT_TRY=i runs the Try-it panel on validation sample i,
// STRATA_SCREENSHOT_DOCK=objectName raises a dock (datasetDock, tryItDock).
#ifdef HAVE_STRATA_UI
#include <QApplication>
#include <QDockWidget>
#include <QTimer>
#include <iostream>

#include "app/commands.h"
#include "ui/main_window.h"
#include "ui/node_editor/editor_model.h"
#include "ui/node_editor/graph_scene.h"
#include "ui/node_editor/graph_view.h"
#include "ui/training/dashboard.h"
#include "ui/training/training_session.h"
#include "ui/try_it/try_it_panel.h"

namespace strata::app {

namespace {

void grabAndQuit(ui::MainWindow& window, const QString& file) {
    QTimer::singleShot(800, &window, [&window, file] {
        // The window has its final size by now: fit the graph to it.
        window.view()->fitGraph();
        QApplication::processEvents();
        if (!window.grab().save(file)) {
            std::cerr << "strata: cannot write " << file.toStdString() << "\n";
            QApplication::exit(kIoError);
            return;
        }
        QApplication::exit(kOk);
    });
}

void prepareScreenshot(ui::MainWindow& window, const QString& file) {
    const QStringList size = qEnvironmentVariable("STRATA_SCREENSHOT_SIZE", "1600x1000").split('x');
    if (size.size() == 2) window.resize(size[0].toInt(), size[1].toInt());
    const std::string select = qEnvironmentVariable("STRATA_SCREENSHOT_SELECT").toStdString();
    if (const Node* n = window.model()->graph().nodeByName(select)) {
        window.scene()->selectNodes({n->id});
    }
    const QString dock = qEnvironmentVariable("STRATA_SCREENSHOT_DOCK");
    if (auto* d = dock.isEmpty() ? nullptr : window.findChild<QDockWidget*>(dock)) d->raise();
    const int steps = qEnvironmentVariableIntValue("STRATA_SCREENSHOT_TRAIN_STEPS");
    if (steps <= 0) {
        grabAndQuit(window, file);
        return;
    }
    ui::TrainingSession* session = window.dashboard()->session();
    QObject::connect(session, &ui::TrainingSession::finished, &window, [&window, file] {
        bool tried = false;
        const int sample = qEnvironmentVariableIntValue("STRATA_SCREENSHOT_TRY", &tried);
        if (tried) {
            if (auto ok = window.tryItPanel()->runValidationSample(sample); !ok) {
                std::cerr << "strata: try it: " << ok.message() << "\n";
            }
            if (auto* dock = window.findChild<QDockWidget*>("tryItDock")) dock->raise();
        }
        grabAndQuit(window, file);
    });
    QTimer::singleShot(300, &window, [&window, steps] {
        if (!window.dashboard()->train(steps)) {
            std::cerr << "strata: training did not start\n";
            QApplication::exit(kInvalid);
        }
    });
}

}  // namespace

int runStudio(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setOrganizationName("Strata");
    QApplication::setApplicationName("strata");
    QApplication::setApplicationVersion(STRATA_VERSION);
    ui::applyStudioStyle();

    const QString screenshot = qEnvironmentVariable("STRATA_SCREENSHOT");
    ui::MainWindow::Options options;
    options.offerRecovery = screenshot.isEmpty();
    options.restoreSettings = screenshot.isEmpty();
    ui::MainWindow window(options);
    window.show();

    const QStringList args = QApplication::arguments();
    QString path;
    for (int i = 1; i < args.size(); ++i) {
        if (!args[i].startsWith('-')) path = args[i];
    }
    if (!path.isEmpty()) {
        if (auto ok = window.openDocument(path); !ok) {
            std::cerr << "strata: " << ok.message() << "\n";
            if (!screenshot.isEmpty()) return kIoError;
        }
    }
    if (!screenshot.isEmpty()) prepareScreenshot(window, screenshot);
    return QApplication::exec();
}

}  // namespace strata::app
#endif

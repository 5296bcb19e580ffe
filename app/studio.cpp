// The studio: a QApplication around the main window, opening the document given on the command
// line. STRATA_SCREENSHOT=file.png grabs the window once it is shown and quits (docs/images).
#ifdef HAVE_STRATA_UI
#include <QApplication>
#include <QTimer>
#include <iostream>

#include "app/commands.h"
#include "ui/main_window.h"

namespace strata::app {

int runStudio(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setOrganizationName("Strata");
    QApplication::setApplicationName("strata");
    QApplication::setApplicationVersion(STRATA_VERSION);
    ui::applyStudioStyle();
    registerDeviceList();

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
    if (!screenshot.isEmpty()) {
        QTimer::singleShot(800, &window, [&] {
            if (!window.grab().save(screenshot)) {
                std::cerr << "strata: cannot write " << screenshot.toStdString() << "\n";
                QApplication::exit(kIoError);
                return;
            }
            QApplication::exit(kOk);
        });
    }
    return QApplication::exec();
}

}  // namespace strata::app
#endif

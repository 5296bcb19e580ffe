#pragma once
// What every widget test starts from: one offscreen QApplication whose settings live in a test
// folder, and main-window options that never block on a dialog or read a saved layout.
#include <QApplication>
#include <QStandardPaths>

#include "ui/main_window.h"

namespace strata::ui {

inline QApplication& application() {
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

inline MainWindow::Options testWindowOptions() {
    MainWindow::Options o;
    o.interactive = false;
    o.offerRecovery = false;
    o.restoreSettings = false;
    return o;
}

}  // namespace strata::ui

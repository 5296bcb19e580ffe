// strata bench --ui: how responsive the studio stays while it trains. Opens the largest sample
// (most forward FLOPs per step) in the studio's main window (offscreen unless a platform is
// set), starts training it from the dashboard, and pings the event loop with a 10 ms timer:
// the lateness of each tick (beyond its 10 ms) is what a person feels as lag. Prints the mean,
// 99th percentile and maximum; the goal is under 50 ms.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "app/commands.h"
#include "core/graph/shape_inference.h"
#include "core/io/document.h"

#ifdef HAVE_STRATA_UI
#include <QApplication>
#include <QComboBox>
#include <QElapsedTimer>
#include <QLabel>
#include <QSpinBox>
#include <QTimer>

#include "ui/main_window.h"
#include "ui/training/dashboard.h"
#include "ui/training/training_session.h"
#endif

namespace strata::app {

namespace fs = std::filesystem;

namespace {

// The sample folders: beside the working directory, or beside the binary (installed or built).
std::vector<fs::path> sampleDocuments(const fs::path& exe) {
    std::vector<fs::path> dirs = {fs::current_path() / "samples", exe.parent_path() / "../samples",
                                  exe.parent_path() / "../share/strata/samples",
                                  exe.parent_path() / "../../samples"};
    for (const fs::path& d : dirs) {
        std::error_code ec;
        if (!fs::is_directory(d, ec)) continue;
        std::vector<fs::path> files;
        for (const auto& e : fs::recursive_directory_iterator(d, ec)) {
            if (e.path().string().ends_with(".strata.json")) files.push_back(e.path());
        }
        std::sort(files.begin(), files.end());
        if (!files.empty()) return files;
    }
    return {};
}

}  // namespace

int benchUi(Args& args) {
    const std::string document = takeOption(args, "--document");
    const std::string device = takeOption(args, "--device", "cpu");
    const double seconds = std::stod(takeOption(args, "--seconds", "10"));
    if (!args.empty()) return usageError("bench --ui takes no argument '" + args[0] + "'");
    if (seconds <= 0 || seconds > 3600) return usageError("--seconds takes 0 to 3600 seconds");
#ifndef HAVE_STRATA_UI
    (void)document;
    (void)device;
    std::cerr << "strata: this build has no studio (Qt 6 was not found); bench --ui needs it\n";
    return kUsage;
#else
    fs::path path = document;
    if (path.empty()) {
        // The largest sample: the most forward FLOPs per optimizer step.
        double most = -1;
        for (const fs::path& f : sampleDocuments(fs::read_symlink("/proc/self/exe"))) {
            auto doc = readDocument(f);
            if (!doc || !doc->dataset) continue;
            const double work = double(analyze(doc->graph).flops) * double(doc->training.batchSize);
            if (work > most) {
                most = work;
                path = f;
            }
        }
        if (path.empty()) {
            std::cerr << "strata: no sample documents found; run from the source folder or pass "
                         "--document FILE\n";
            return kIoError;
        }
    }
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    static int argc = 1;
    static char name[] = "strata";
    static char* argv[] = {name, nullptr};
    QApplication app(argc, argv);
    QApplication::setOrganizationName("Strata");
    QApplication::setApplicationName("strata-bench");
    ui::applyStudioStyle();
    registerDeviceList();
    ui::MainWindow::Options options;
    options.interactive = false;
    options.offerRecovery = false;
    options.restoreSettings = false;
    ui::MainWindow window(options);
    window.resize(1600, 1000);
    window.show();
    if (auto ok = window.openDocument(QString::fromStdString(path.string())); !ok) {
        std::cerr << "strata: " << ok.message() << "\n";
        return kIoError;
    }
    ui::Dashboard* dash = window.dashboard();
    if (dash->deviceBox()->findText(QString::fromStdString(device)) < 0) {
        dash->deviceBox()->addItem(QString::fromStdString(device));
    }
    dash->deviceBox()->setCurrentText(QString::fromStdString(device));
    dash->epochsBox()->setValue(1000);  // outlasts the measurement

    // Phases: 0.5 s settling, 2 s idle (the baseline: what the machine itself costs), start
    // training, 1 s warm-up (first steps, first replots), then `seconds` measured.
    enum Phase { Settle, Idle, WarmUp, Measure };
    Phase phase = Settle;
    int64_t stepsAtStart = 0, lastStep = 0;
    QObject::connect(dash->session(), &ui::TrainingSession::stepsArrived, &app,
                     [&](const QVector<StepMetrics>& steps) { lastStep = steps.back().step; });
    QElapsedTimer clock, phaseClock;
    std::vector<double> idle, training;  // ms beyond the 10 ms period, one per tick
    QTimer ping;
    ping.setTimerType(Qt::PreciseTimer);
    ping.setInterval(10);
    qint64 previous = -1;
    int result = kOk;
    QObject::connect(&ping, &QTimer::timeout, &app, [&] {
        const qint64 now = clock.nsecsElapsed();
        const double late = previous >= 0 ? std::max(0.0, double(now - previous) / 1e6 - 10.0) : 0;
        previous = now;
        const double inPhase = double(phaseClock.nsecsElapsed()) / 1e9;
        switch (phase) {
            case Settle:
                if (inPhase > 0.5) phase = Idle, phaseClock.restart();
                break;
            case Idle:
                idle.push_back(late);
                if (inPhase > 2.0) {
                    if (!dash->train()) {
                        std::cerr << "strata: training did not start: "
                                  << dash->messageLabel()->text().toStdString() << "\n";
                        result = kInvalid;
                        QApplication::quit();
                        return;
                    }
                    std::printf("studio: %s training on %s (offscreen window 1600x1000)\n",
                                path.filename().string().c_str(),
                                dash->session()->deviceName().toStdString().c_str());
                    std::fflush(stdout);
                    phase = WarmUp;
                    phaseClock.restart();
                    previous = -1;  // starting takes a moment: not a tick's lateness
                }
                break;
            case WarmUp:
                if (inPhase > 1.0) {
                    phase = Measure;
                    phaseClock.restart();
                    stepsAtStart = lastStep;
                }
                break;
            case Measure:
                training.push_back(late);
                if (inPhase > seconds) QApplication::quit();
                break;
        }
        if (phase >= WarmUp && !dash->session()->isRunning()) QApplication::quit();
    });
    clock.start();
    phaseClock.start();
    ping.start();
    QApplication::exec();
    ping.stop();
    const double measured = double(phaseClock.nsecsElapsed()) / 1e9;
    const int64_t steps = lastStep - stepsAtStart;
    const bool ran = dash->session()->isRunning();
    dash->session()->stop();
    QElapsedTimer wait;
    wait.start();
    while (dash->session()->isRunning() && wait.elapsed() < 30000) {
        QApplication::processEvents(QEventLoop::AllEvents, 50);
    }
    if (result != kOk) return result;
    if (!ran || training.empty()) {
        std::cerr << "strata: training ended before the measurement: "
                  << dash->messageLabel()->text().toStdString() << "\n";
        return kInvalid;
    }
    struct Summary {
        double mean = 0, p99 = 0, max = 0;
    };
    auto summarize = [](std::vector<double> v) {
        Summary s;
        if (v.empty()) return s;
        std::sort(v.begin(), v.end());
        for (double x : v) s.mean += x;
        s.mean /= double(v.size());
        s.p99 = v[std::min(v.size() - 1, size_t(double(v.size()) * 0.99))];
        s.max = v.back();
        return s;
    };
    const Summary a = summarize(idle), b = summarize(training);
    std::printf("measured %.1f s while training: %lld steps (%.1f steps/s), %zu ticks of a 10 ms "
                "timer\n",
                measured, static_cast<long long>(steps), double(steps) / measured,
                training.size());
    std::printf("event-loop lateness idle:     mean %6.2f ms, 99th percentile %6.2f ms, max "
                "%6.2f ms\n",
                a.mean, a.p99, a.max);
    std::printf("event-loop lateness training: mean %6.2f ms, 99th percentile %6.2f ms, max "
                "%6.2f ms (goal: under 50 ms) %s\n",
                b.mean, b.p99, b.max, b.max < 50 ? "ok" : "OVER");
    return kOk;
#endif
}

}  // namespace strata::app

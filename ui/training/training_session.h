#pragma once
// The studio's bridge to core::Trainer. The Trainer runs in its own worker thread; this object
// lives on the UI thread and never waits for it: a ~30 Hz timer drains the step-metric ring and
// the latest attention snapshot, and rare events (epoch end, problem, finish) are posted from the
// worker's callback as queued calls carrying copies of their values.
#include <QObject>
#include <QString>
#include <QVector>
#include <memory>
#include <vector>

#include "core/io/document.h"
#include "core/train/metrics.h"
#include "core/util/result.h"

class QTimer;

namespace strata {
class Trainer;
}

namespace strata::ui {

class TrainingSession : public QObject {
    Q_OBJECT
public:
    explicit TrainingSession(QObject* parent = nullptr);
    ~TrainingSession() override;  // stops the worker and waits for it

    // Opens the document's dataset (relative to documentDir), compiles its graph with
    // `settings` and starts training. Errors a person can fix come back as sentences.
    Result<void> start(const Document& doc, const QString& documentDir,
                       const TrainingSettings& settings, int64_t maxSteps = 0);
    void pause();
    void resume();
    void stop();
    void setLearningRate(double lr);

    bool isRunning() const { return m_running; }
    bool isPaused() const { return m_paused; }
    int64_t stepsPerEpoch() const { return m_stepsPerEpoch; }
    int64_t totalSteps() const { return m_totalSteps; }
    QString deviceName() const { return m_device; }
    // The weights at the last epoch end or finish; empty before.
    WeightSet weights() const;

signals:
    void started();
    void stepsArrived(const QVector<strata::StepMetrics>& steps);  // in order, batched per tick
    void epochEnded(const strata::EpochMetrics& metrics);
    void attentionArrived(const std::vector<strata::AttentionSnapshot>& snapshots);
    void pausedChanged(bool paused);
    // A non-finite value (training paused) or an error (training ended); the text names the
    // remedy.
    void problem(const QString& message);
    void finished(const QString& how);  // "completed", "stopped", "early stopping", "failed"

private:
    void drain();
    void onEvent(int kind, const EpochMetrics& epoch, const QString& message);

    std::unique_ptr<Trainer> m_trainer;
    QTimer* m_timer;
    uint64_t m_attentionSeen = 0;
    bool m_running = false;
    bool m_paused = false;
    int64_t m_stepsPerEpoch = 0;
    int64_t m_totalSteps = 0;
    QString m_device;
};

}  // namespace strata::ui

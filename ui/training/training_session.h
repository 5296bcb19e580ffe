#pragma once
// The studio's bridge to core::Trainer. The Trainer runs in its own worker thread; this object
// lives on the UI thread and never waits for it: a ~30 Hz timer drains the step-metric ring and
// the latest attention snapshot, and rare events (epoch end, problem, checkpoint, finish) are
// posted from the worker's callback as queued calls carrying copies of their values.
#include <QImage>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QVector>
#include <memory>
#include <vector>

#include "core/data/dataset.h"
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

    // Opens the document's dataset (relative to documentDir), learns the normalisation of the
    // float inputs on the training split (as `strata train` does), compiles the graph with
    // `settings` and starts training. Errors a person can fix come back as sentences.
    Result<void> start(const Document& doc, const QString& documentDir,
                       const TrainingSettings& settings, int64_t maxSteps = 0);
    void pause();
    void resume();
    void stop();
    void setLearningRate(double lr);
    // Writes a resumable checkpoint (`strata train --resume`) through the Trainer: between two
    // steps while training (checkpointSaved / problem follow), at once after it ended.
    Result<void> saveCheckpoint(const QString& path);
    bool canCheckpoint() const { return m_trainer != nullptr; }

    bool isRunning() const { return m_running; }
    bool isPaused() const { return m_paused; }
    int64_t stepsPerEpoch() const { return m_stepsPerEpoch; }
    int64_t totalSteps() const { return m_totalSteps; }
    int64_t epochs() const { return m_epochs; }
    int64_t batchSize() const { return m_batchSize; }
    QString deviceName() const { return m_device; }
    // The weights at the last epoch end, pause or finish; empty before.
    WeightSet weights() const;
    // Class names, vocabulary and the normalisation learned at start (for an export).
    const Preprocessing& preprocessing() const { return m_preprocessing; }

    // The validation split as read (before normalisation); null before a run or without one.
    std::shared_ptr<const Dataset> validationData() const { return m_validationRaw; }
    int64_t validationSize() const { return m_validationRaw ? m_validationRaw->size() : 0; }
    // A small picture of a validation sample when the model's input is an image (C, H, W with
    // C = 1 or 3); a null image otherwise.
    QImage thumbnail(int64_t validationIndex) const;
    // Class names by label value (from the data), or the numbers when it has none.
    QStringList classLabels(int64_t classes) const;
    // The input tokens of the sample the attention snapshots are taken on, as text (from the
    // dataset's vocabulary when it has one); empty when the model takes no token ids.
    QStringList attentionTokens() const { return m_attentionTokens; }

signals:
    void started();
    void stepsArrived(const QVector<strata::StepMetrics>& steps);  // in order, batched per tick
    void epochEnded(const strata::EpochMetrics& metrics);
    void attentionArrived(const std::vector<strata::AttentionSnapshot>& snapshots);
    void pausedChanged(bool paused);
    void checkpointSaved(const QString& path);
    // A non-finite value (training paused), an error (training ended) or a checkpoint that
    // could not be written; the text names the remedy.
    void problem(const QString& message);
    void finished(const QString& how);  // "completed", "stopped", "early stopping", "failed"

private:
    void drain();
    void onEvent(int kind, const EpochMetrics& epoch, const QString& message);
    void findInputs(const Document& doc, const Dataset& tokenData);

    std::unique_ptr<Trainer> m_trainer;
    QTimer* m_timer;
    uint64_t m_attentionSeen = 0;
    bool m_running = false;
    bool m_paused = false;
    int64_t m_stepsPerEpoch = 0;
    int64_t m_totalSteps = 0;
    int64_t m_epochs = 0;
    int64_t m_batchSize = 0;
    QString m_device;
    Preprocessing m_preprocessing;
    std::shared_ptr<const Dataset> m_validationRaw;
    std::string m_imageField;  // the model's (C, H, W) input field, for thumbnails
    QStringList m_attentionTokens;
};

}  // namespace strata::ui

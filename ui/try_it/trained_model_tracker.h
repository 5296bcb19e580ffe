#pragma once
// Which trained model the studio has: the weights of the last training run (with the graph,
// settings and per-epoch metrics of that run) or a model imported from a document with weights.
// The Try-it panel runs it; File → Export trained model writes it with the current document.
#include <QDateTime>
#include <QElapsedTimer>
#include <QObject>
#include <functional>
#include <optional>
#include <vector>

#include "core/io/document.h"
#include "core/train/metrics.h"
#include "ui/try_it/model_runner.h"

namespace strata::ui {

class Dashboard;
class EditorModel;
class TrainingSession;

class TrainedModelTracker : public QObject {
    Q_OBJECT
public:
    TrainedModelTracker(EditorModel* model, Dashboard* dashboard,
                        std::function<QString()> documentDir, QObject* parent = nullptr);

    const std::optional<TrainedModel>& model() const { return m_model; }
    const nlohmann::json& trainingRecord() const { return m_record; }

    // A document with weights becomes the current model (import, open); one without clears it.
    void adoptDocument(const Document& doc, const QString& path);
    void clear();

    // The current document with the trained weights, preprocessing and training record.
    Result<void> exportTo(const QString& path) const;

signals:
    void modelChanged();

private:
    void onStarted();
    void onFinished(const QString& how);
    Preprocessing runPreprocessing(const TrainingSession& session) const;
    template <class Session>
    Preprocessing runPreprocessingOf(const Session& session) const;

    EditorModel* m_editor;
    Dashboard* m_dashboard;
    std::function<QString()> m_documentDir;
    std::optional<TrainedModel> m_model;
    nlohmann::json m_record;

    // The run in progress.
    Graph m_runGraph;
    std::optional<DatasetBinding> m_runData;
    TrainingSettings m_runSettings;
    QDateTime m_runStarted;
    QElapsedTimer m_runClock;
    std::vector<EpochMetrics> m_runEpochs;
    int64_t m_runSteps = 0;
};

}  // namespace strata::ui

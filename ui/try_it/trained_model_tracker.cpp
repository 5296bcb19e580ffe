#include "ui/try_it/trained_model_tracker.h"

#include <QFileInfo>

#include "core/data/open_dataset.h"
#include "core/data/split.h"
#include "ui/node_editor/editor_model.h"
#include "ui/training/dashboard.h"
#include "ui/training/training_session.h"

namespace strata::ui {

// The preprocessing the run trained with. A session that learns normalisation itself says so
// through preprocessing(); one that feeds the splits as they are leaves only what the data
// carries (class names, vocabulary). Written against both so the tracker follows the session.
template <class Session>
Preprocessing TrainedModelTracker::runPreprocessingOf(const Session& session) const {
    if constexpr (requires { session.preprocessing(); }) {
        return session.preprocessing();
    } else {
        if (!m_runData) return {};
        const std::string dir = m_documentDir ? m_documentDir().toStdString() : std::string();
        auto ds = openDataset(*m_runData, dir);
        return ds ? datasetPreprocessing(**ds) : Preprocessing{};
    }
}

Preprocessing TrainedModelTracker::runPreprocessing(const TrainingSession& session) const {
    return runPreprocessingOf(session);
}

TrainedModelTracker::TrainedModelTracker(EditorModel* model, Dashboard* dashboard,
                                         std::function<QString()> documentDir, QObject* parent)
    : QObject(parent), m_editor(model), m_dashboard(dashboard),
      m_documentDir(std::move(documentDir)) {
    TrainingSession* session = dashboard->session();
    connect(session, &TrainingSession::started, this, &TrainedModelTracker::onStarted);
    connect(session, &TrainingSession::epochEnded, this,
            [this](const EpochMetrics& m) { m_runEpochs.push_back(m); });
    connect(session, &TrainingSession::stepsArrived, this,
            [this](const QVector<StepMetrics>& steps) {
                if (!steps.isEmpty()) m_runSteps = steps.back().step;
            });
    connect(session, &TrainingSession::finished, this, &TrainedModelTracker::onFinished);
}

void TrainedModelTracker::onStarted() {
    const Document& doc = m_editor->document();
    m_runGraph = doc.graph;
    m_runData = doc.dataset;
    m_runSettings = m_dashboard->settings();
    m_runStarted = QDateTime::currentDateTimeUtc();
    m_runClock.start();
    m_runEpochs.clear();
    m_runSteps = 0;
}

void TrainedModelTracker::onFinished(const QString& how) {
    WeightSet weights = m_dashboard->session()->weights();
    if (weights.empty()) return;  // failed before any weights existed: keep the previous model
    TrainedModel trained;
    trained.graph = m_runGraph;
    trained.weights = std::move(weights);
    trained.preprocessing = runPreprocessing(*m_dashboard->session());
    trained.origin = QStringLiteral("training run (%1 steps, %2)")
                         .arg(m_runSteps)
                         .arg(how)
                         .toStdString();

    Document settingsOnly;
    settingsOnly.training = m_runSettings;
    nlohmann::json record = {
        {"settings", toJson(settingsOnly)["training"]},
        {"device", m_dashboard->session()->deviceName().toStdString()},
        {"started", m_runStarted.toString(Qt::ISODate).toStdString()},
        {"duration_seconds", double(m_runClock.elapsed()) / 1000.0},
        {"steps", m_runSteps},
        {"strata_version", STRATA_VERSION},
        {"stopped", how != QLatin1String("completed")},
        {"trained_in", "studio"}};
    record["epochs"] = nlohmann::json::array();
    for (const EpochMetrics& m : m_runEpochs) {
        nlohmann::json e = toJson(m);
        e["epoch"] = m.epoch + 1;
        record["epochs"].push_back(std::move(e));
    }
    m_model = std::move(trained);
    m_record = std::move(record);
    emit modelChanged();
}

void TrainedModelTracker::adoptDocument(const Document& doc, const QString& path) {
    if (!doc.weights || doc.weights->empty()) {
        clear();
        return;
    }
    TrainedModel trained;
    trained.graph = doc.graph;
    trained.weights = *doc.weights;
    trained.preprocessing = doc.preprocessing.value_or(Preprocessing{});
    trained.origin = "imported from " + QFileInfo(path).fileName().toStdString();
    m_model = std::move(trained);
    m_record = doc.trainingRecord;
    emit modelChanged();
}

void TrainedModelTracker::clear() {
    if (!m_model) return;
    m_model.reset();
    m_record = nullptr;
    emit modelChanged();
}

Result<void> TrainedModelTracker::exportTo(const QString& path) const {
    if (!m_model) {
        return fail("there is no trained model to export; train the graph first (Training dock) "
                    "or import a trained model");
    }
    Document doc = m_editor->document();
    if (doc.name.empty()) {
        doc.name = QFileInfo(path).fileName().remove(".strata.json").toStdString();
    }
    // Nodes edited since training may no longer fit the weights: export only a model that runs.
    if (doc.graph != m_model->graph) {
        TrainedModel current = *m_model;
        current.graph = doc.graph;
        if (auto runs = ModelRunner::create(current); !runs) {
            return fail("the graph changed since the model was trained (" + runs.message() +
                        "); train it again before exporting");
        }
    }
    doc.weights = m_model->weights;
    doc.preprocessing = m_model->preprocessing;
    doc.trainingRecord = m_record;
    if (auto ok = writeDocument(doc, path.toStdString()); !ok) {
        return fail(path.toStdString() + ": " + ok.message());
    }
    return {};
}

}  // namespace strata::ui

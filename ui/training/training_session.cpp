// trainer.h comes before any Qt header: Trainer has a member named emit, which Qt's `emit`
// macro would erase.
#include "core/train/trainer.h"

#include <QMetaObject>
#include <QTimer>
#include <algorithm>

#include "core/data/split.h"
#include "ui/training/training_session.h"

namespace strata::ui {

TrainingSession::TrainingSession(QObject* parent) : QObject(parent), m_timer(new QTimer(this)) {
    // ~30 Hz: smooth curves without spending the UI thread on every step.
    m_timer->setInterval(33);
    connect(m_timer, &QTimer::timeout, this, &TrainingSession::drain);
}

TrainingSession::~TrainingSession() {
    if (m_trainer) m_trainer->stop();
    m_trainer.reset();
}

Result<void> TrainingSession::start(const Document& doc, const QString& documentDir,
                                    const TrainingSettings& settings, int64_t maxSteps) {
    if (m_running) return fail("training is already running; stop it first");
    if (!doc.dataset) {
        return fail("the graph has no dataset bound; choose one in the dataset panel first");
    }
    auto splits = openSplits(*doc.dataset, documentDir.toStdString());
    if (!splits) return fail("the dataset cannot be opened: " + splits.message());
    if (settings.batchSize <= 0) return fail("the batch size must be at least 1");

    TrainerConfig config;
    config.graph = doc.graph;
    config.settings = settings;
    config.train = splits->train;
    if (splits->validation && splits->validation->size() > 0) {
        config.validation = splits->validation;
    }
    config.initialWeights = doc.weights;
    config.maxSteps = maxSteps;
    config.attentionEvery = 10;

    // A previous run's trainer is finished; destroying it only joins an ended thread.
    m_trainer.reset();
    auto trainer = std::make_unique<Trainer>(std::move(config));
    trainer->setEventCallback([this](const TrainerEvent& e) {
        // Worker thread: copy the values and let the UI thread handle them.
        const int kind = static_cast<int>(e.kind);
        EpochMetrics epoch = e.epoch;
        QString message = QString::fromStdString(e.message);
        QMetaObject::invokeMethod(
            this, [this, kind, epoch, message] { onEvent(kind, epoch, message); },
            Qt::QueuedConnection);
    });
    if (auto ok = trainer->start(); !ok) return ok;
    m_trainer = std::move(trainer);
    const int64_t n = splits->train->size();
    m_stepsPerEpoch = (n + settings.batchSize - 1) / settings.batchSize;
    m_totalSteps = m_stepsPerEpoch * std::max<int64_t>(1, settings.epochs);
    if (maxSteps > 0) m_totalSteps = std::min(m_totalSteps, maxSteps);
    m_device = QString::fromStdString(m_trainer->deviceName());
    m_attentionSeen = 0;
    m_running = true;
    m_paused = false;
    m_timer->start();
    emit started();
    return {};
}

void TrainingSession::pause() {
    if (m_trainer && m_running) m_trainer->pause();
}

void TrainingSession::resume() {
    if (m_trainer && m_running) m_trainer->resume();
}

void TrainingSession::stop() {
    if (m_trainer && m_running) m_trainer->stop();
}

void TrainingSession::setLearningRate(double lr) {
    if (m_trainer && m_running && lr > 0) m_trainer->setLearningRate(lr);
}

WeightSet TrainingSession::weights() const {
    return m_trainer ? m_trainer->weights() : WeightSet{};
}

void TrainingSession::drain() {
    if (!m_trainer) return;
    QVector<StepMetrics> steps;
    while (auto m = m_trainer->steps().pop()) steps.push_back(*m);
    if (!steps.isEmpty()) emit stepsArrived(steps);
    if (auto snapshots = m_trainer->attention().getIfNewer(m_attentionSeen)) {
        emit attentionArrived(*snapshots);
    }
}

void TrainingSession::onEvent(int kindValue, const EpochMetrics& epoch, const QString& message) {
    using Kind = TrainerEvent::Kind;
    const auto kind = static_cast<Kind>(kindValue);
    // Steps before the event belong before it on the plot.
    drain();
    switch (kind) {
        case Kind::EpochEnd: emit epochEnded(epoch); break;
        case Kind::Paused:
            m_paused = true;
            emit pausedChanged(true);
            if (message != QLatin1String("paused")) emit problem(message);
            break;
        case Kind::Resumed:
            m_paused = false;
            emit pausedChanged(false);
            break;
        case Kind::Checkpoint: break;
        case Kind::Error:
            // The worker ends after an error without a Finished event.
            m_timer->stop();
            m_running = false;
            m_paused = false;
            emit problem(message);
            emit finished(QStringLiteral("failed"));
            break;
        case Kind::Finished:
            m_timer->stop();
            m_running = false;
            m_paused = false;
            emit finished(message.isEmpty() ? QStringLiteral("completed") : message);
            break;
    }
}

}  // namespace strata::ui

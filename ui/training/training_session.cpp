// trainer.h comes before any Qt header: Trainer has a member named emit, which Qt's `emit`
// macro would erase.
#include "core/train/trainer.h"

#include <QMetaObject>
#include <QTimer>
#include <algorithm>
#include <cmath>

#include "core/data/annotated_dataset.h"
#include "core/data/open_dataset.h"
#include "core/data/split.h"
#include "core/train/normalized_dataset.h"
#include "ui/training/training_session.h"

namespace strata::ui {

namespace {

// How a token reads on an axis: visible characters for blanks and control characters.
QString tokenText(const std::string& s) {
    QString t = QString::fromStdString(s);
    if (t == " ") return QStringLiteral("␣");
    if (t == "\n") return QStringLiteral("↵");
    if (t == "\t") return QStringLiteral("⇥");
    return t;
}

}  // namespace

TrainingSession::TrainingSession(QObject* parent) : QObject(parent), m_timer(new QTimer(this)) {
    // ~30 Hz: smooth curves without spending the UI thread on every step.
    m_timer->setInterval(33);
    connect(m_timer, &QTimer::timeout, this, &TrainingSession::drain);
}

TrainingSession::~TrainingSession() {
    if (m_trainer) m_trainer->stop();
    m_trainer.reset();
}

void TrainingSession::findInputs(const Document& doc, const Dataset& tokenData) {
    m_imageField.clear();
    m_attentionTokens.clear();
    const std::vector<std::string> vocabulary = datasetVocabulary(tokenData);
    for (const std::string& name : modelInputFields(doc.graph)) {
        auto f = tokenData.field(name);
        if (!f) continue;
        if (f->dtype == DType::Float32 && f->shape.size() == 3 &&
            (f->shape[0] == 1 || f->shape[0] == 3) && m_imageField.empty()) {
            m_imageField = name;
        }
        // Token ids (T): the attention snapshot is taken on sample 0 of this data.
        if (f->dtype == DType::Int32 && f->shape.size() == 1 && m_attentionTokens.isEmpty() &&
            tokenData.size() > 0) {
            std::vector<float> ids(size_t(f->sampleSize()));  // (T)
            const int64_t first = 0;
            tokenData.gather(std::span<const int64_t>(&first, 1), name, ids.data());
            for (float v : ids) {
                const int64_t id = std::lround(v);
                m_attentionTokens << (id >= 0 && id < int64_t(vocabulary.size())
                                          ? tokenText(vocabulary[size_t(id)])
                                          : QString::number(id));
            }
        }
    }
}

Result<void> TrainingSession::start(const Document& doc, const QString& documentDir,
                                    const TrainingSettings& settings, int64_t maxSteps) {
    if (m_running) return fail("training is already running; stop it first");
    if (!doc.dataset) {
        return fail("the graph has no dataset bound; choose one in the dataset panel first");
    }
    if (settings.batchSize <= 0) return fail("the batch size must be at least 1");
    auto splits = openSplits(*doc.dataset, documentDir.toStdString());
    if (!splits) return fail("the dataset cannot be opened: " + splits.message());
    auto norm = learnNormalization(doc.graph, *splits->train);
    if (!norm) return fail("the dataset cannot be normalised: " + norm.message());

    TrainerConfig config;
    config.graph = doc.graph;
    config.settings = settings;
    config.train = applyNormalization(splits->train, *norm);
    const bool haveValidation = splits->validation && splits->validation->size() > 0;
    if (haveValidation) config.validation = applyNormalization(splits->validation, *norm);
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
    m_preprocessing = datasetPreprocessing(*splits->train);
    m_preprocessing.normalization = *norm;
    m_validationRaw = haveValidation ? std::shared_ptr<const Dataset>(splits->validation)
                                     : std::shared_ptr<const Dataset>();
    findInputs(doc, haveValidation ? *splits->validation : *splits->train);
    const int64_t n = splits->train->size();
    m_batchSize = settings.batchSize;
    m_epochs = std::max<int64_t>(1, settings.epochs);
    m_stepsPerEpoch = (n + settings.batchSize - 1) / settings.batchSize;
    m_totalSteps = m_stepsPerEpoch * m_epochs;
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
    if (!m_trainer || !m_running) return;
    // A paused worker must wake up to see the stop.
    m_trainer->stop();
}

void TrainingSession::setLearningRate(double lr) {
    if (m_trainer && m_running && lr > 0) m_trainer->setLearningRate(lr);
}

Result<void> TrainingSession::saveCheckpoint(const QString& path) {
    if (!m_trainer) return fail("there is no training run to checkpoint; train first");
    return m_trainer->requestCheckpoint(path.toStdString());
}

WeightSet TrainingSession::weights() const {
    return m_trainer ? m_trainer->weights() : WeightSet{};
}

QImage TrainingSession::thumbnail(int64_t index) const {
    if (!m_validationRaw || m_imageField.empty() || index < 0 || index >= validationSize()) {
        return {};
    }
    auto f = m_validationRaw->field(m_imageField);
    if (!f || f->shape.size() != 3) return {};
    const int c = int(f->shape[0]), h = int(f->shape[1]), w = int(f->shape[2]);
    if (h > 512 || w > 512) return {};
    std::vector<float> px(size_t(f->sampleSize()));  // (C, H, W)
    m_validationRaw->gather(std::span<const int64_t>(&index, 1), m_imageField, px.data());
    // Min-max per picture: raw pixels may be 0..1, 0..255 or standardised.
    const auto [lo, hi] = std::minmax_element(px.begin(), px.end());
    const float scale = *hi > *lo ? 255.0f / (*hi - *lo) : 0.0f;
    QImage img(w, h, QImage::Format_RGB32);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            auto at = [&](int ch) {
                return int((px[size_t((ch * h + y) * w + x)] - *lo) * scale + 0.5f);
            };
            const int r = at(0), g = c == 3 ? at(1) : r, b = c == 3 ? at(2) : r;
            img.setPixel(x, y, qRgb(r, g, b));
        }
    }
    return img;
}

QStringList TrainingSession::classLabels(int64_t classes) const {
    QStringList out;
    for (int64_t i = 0; i < classes; ++i) {
        const auto& names = m_preprocessing.classNames;
        out << (i < int64_t(names.size()) && !names[size_t(i)].empty()
                    ? QString::fromStdString(names[size_t(i)])
                    : QString::number(i));
    }
    return out;
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
        case Kind::Checkpoint: emit checkpointSaved(message); break;
        case Kind::CheckpointFailed: emit problem(message); break;
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

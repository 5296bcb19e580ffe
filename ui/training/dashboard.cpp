#include "ui/training/dashboard.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>
#include <cmath>
#include <qcustomplot.h>

#include "ui/node_editor/editor_model.h"
#include "ui/training/attention_view.h"
#include "ui/training/training_session.h"

namespace strata::ui {

namespace {

QString clock(double seconds) {
    const qint64 s = qint64(seconds + 0.5);
    return QString("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QChar('0'));
}

// What a person can do about a problem, added when the trainer's message does not say it.
QString withRemedy(const QString& message) {
    QString text = message;
    const QString lower = message.toLower();
    if ((lower.contains("nan") || lower.contains("non-finite") || lower.contains("inf")) &&
        !lower.contains("lower") && !lower.contains("reduce")) {
        text += QObject::tr(" Try a lower learning rate, gradient clipping, or normalised inputs.");
    } else if (lower.contains("memory") && !lower.contains("smaller")) {
        text += QObject::tr(" Try a smaller batch size or a smaller model.");
    } else if (lower.contains("device lost")) {
        text += QObject::tr(" Train again, or choose the cpu device.");
    }
    return text;
}

}  // namespace

// ---- LossPlot ----

LossPlot::LossPlot(QWidget* parent) : QWidget(parent), m_plot(new QCustomPlot(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot);
    m_plot->setMinimumSize(260, 150);
    m_plot->xAxis->setLabel(tr("step"));
    m_plot->yAxis->setLabel(tr("loss"));
    m_plot->yAxis2->setLabel(tr("accuracy"));
    m_plot->yAxis2->setVisible(true);
    m_plot->yAxis2->setRange(0, 1);
    m_plot->legend->setVisible(true);
    m_plot->legend->setFont(QFont(font().family(), 8));
    m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);

    QCPGraph* raw = m_plot->addGraph();
    raw->setName(tr("loss"));
    raw->setPen(QPen(QColor(70, 130, 220, 70)));
    QCPGraph* ema = m_plot->addGraph();
    ema->setName(tr("loss (smoothed)"));
    ema->setPen(QPen(QColor(40, 110, 230), 2));
    QCPGraph* val = m_plot->addGraph();
    val->setName(tr("validation loss"));
    val->setPen(QPen(QColor(230, 120, 30), 2));
    val->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 6));
    QCPGraph* acc = m_plot->addGraph(m_plot->xAxis, m_plot->yAxis2);
    acc->setName(tr("accuracy"));
    acc->setPen(QPen(QColor(60, 170, 90), 1.5, Qt::DashLine));
    acc->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssSquare, 5));
    QCPGraph* valAcc = m_plot->addGraph(m_plot->xAxis, m_plot->yAxis2);
    valAcc->setName(tr("validation accuracy"));
    valAcc->setPen(QPen(QColor(200, 60, 160), 1.5, Qt::DashLine));
    valAcc->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, 6));
}

int LossPlot::rawPointCount() const {
    return m_plot->graph(0)->data()->size();
}

void LossPlot::clear() {
    for (int i = 0; i < m_plot->graphCount(); ++i) m_plot->graph(i)->data()->clear();
    m_haveEma = false;
    refresh();
}

void LossPlot::addSteps(const QVector<StepMetrics>& steps) {
    const double a = m_smoothing;
    for (const StepMetrics& m : steps) {
        // A non-finite loss would wreck the axis ranges; the dashboard reports it instead.
        if (!std::isfinite(m.loss)) continue;
        m_plot->graph(0)->addData(double(m.step), m.loss);
        m_ema = m_haveEma ? a * m_ema + (1 - a) * m.loss : m.loss;
        m_haveEma = true;
        m_plot->graph(1)->addData(double(m.step), m_ema);
    }
    refresh();
}

void LossPlot::addEpoch(const EpochMetrics& m) {
    const double x = double(m.step);
    if (std::isfinite(m.valLoss)) m_plot->graph(2)->addData(x, m.valLoss);
    if (std::isfinite(m.trainAccuracy)) m_plot->graph(3)->addData(x, m.trainAccuracy);
    if (std::isfinite(m.valAccuracy)) m_plot->graph(4)->addData(x, m.valAccuracy);
    refresh();
}

void LossPlot::setSmoothing(double alpha) {
    m_smoothing = std::clamp(alpha, 0.0, 0.999);
    recomputeEma();
    refresh();
}

void LossPlot::recomputeEma() {
    QCPGraph* ema = m_plot->graph(1);
    ema->data()->clear();
    m_haveEma = false;
    for (auto it = m_plot->graph(0)->data()->constBegin();
         it != m_plot->graph(0)->data()->constEnd(); ++it) {
        m_ema = m_haveEma ? m_smoothing * m_ema + (1 - m_smoothing) * it->value : it->value;
        m_haveEma = true;
        ema->addData(it->key, m_ema);
    }
}

void LossPlot::setLogScale(bool on) {
    m_log = on;
    if (on) {
        m_plot->yAxis->setScaleType(QCPAxis::stLogarithmic);
        m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    } else {
        m_plot->yAxis->setScaleType(QCPAxis::stLinear);
        m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    }
    refresh();
}

void LossPlot::refresh() {
    bool found = false;
    QCPRange keys = m_plot->graph(0)->getKeyRange(found);
    if (found) m_plot->xAxis->setRange(keys.lower, std::max(keys.upper, keys.lower + 1));
    QCPRange values;
    bool any = false;
    for (int g : {0, 2}) {
        bool ok = false;
        // Log axes need positive values: only those count for the range.
        QCPRange r = m_plot->graph(g)->getValueRange(ok, QCP::sdBoth, QCPRange());
        if (!ok) continue;
        if (!any) values = r;
        else values.expand(r);
        any = true;
    }
    if (any) {
        if (m_log) {
            values.lower = std::max(values.lower, 1e-6);
            m_plot->yAxis->setRange(values.lower * 0.8, std::max(values.upper, values.lower) * 1.2);
        } else {
            const double pad = std::max(1e-6, (values.upper - values.lower) * 0.05);
            m_plot->yAxis->setRange(std::min(0.0, values.lower), values.upper + pad);
        }
    }
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

// ---- Dashboard ----

Dashboard::Dashboard(EditorModel* model, std::function<QString()> documentDir, QWidget* parent)
    : QWidget(parent),
      m_model(model),
      m_documentDir(std::move(documentDir)),
      m_session(new TrainingSession(this)) {
    auto* outer = new QHBoxLayout(this);
    outer->setContentsMargins(4, 4, 4, 4);

    auto* left = new QWidget;
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    auto* form = new QFormLayout;
    m_epochs = new QSpinBox;
    m_epochs->setRange(1, 100000);
    m_batch = new QSpinBox;
    m_batch->setRange(1, 65536);
    m_optimizer = new QComboBox;
    m_optimizer->addItems({"sgd", "adam", "adamw", "rmsprop"});
    m_lr = new QDoubleSpinBox;
    m_lr->setDecimals(6);
    m_lr->setRange(1e-6, 10);
    m_lr->setSingleStep(1e-4);
    m_lr->setToolTip(tr("Editable while training: the new rate applies from the next step"));
    m_seed = new QSpinBox;
    m_seed->setRange(0, 1 << 30);
    m_device = new QComboBox;
    m_device->addItems({"auto", "cpu"});
    m_device->setToolTip(tr("auto: the Vulkan GPU when there is one, else the CPU"));
    form->addRow(tr("Epochs"), m_epochs);
    form->addRow(tr("Batch size"), m_batch);
    form->addRow(tr("Optimizer"), m_optimizer);
    form->addRow(tr("Learning rate"), m_lr);
    form->addRow(tr("Seed"), m_seed);
    form->addRow(tr("Device"), m_device);
    leftLayout->addLayout(form);

    auto* buttons = new QHBoxLayout;
    m_train = new QPushButton(tr("Train"));
    m_pause = new QPushButton(tr("Pause"));
    m_stop = new QPushButton(tr("Stop"));
    buttons->addWidget(m_train);
    buttons->addWidget(m_pause);
    buttons->addWidget(m_stop);
    leftLayout->addLayout(buttons);
    m_progress = new QProgressBar;
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    leftLayout->addWidget(m_progress);
    m_status = new QLabel(tr("Idle"));
    m_status->setWordWrap(true);
    leftLayout->addWidget(m_status);
    m_message = new QLabel;
    m_message->setWordWrap(true);
    m_message->setStyleSheet("QLabel { color: #ff7a6a; }");
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_message->hide();
    leftLayout->addWidget(m_message);

    auto* plotOptions = new QHBoxLayout;
    plotOptions->addWidget(new QLabel(tr("Smoothing")));
    m_smoothing = new QSlider(Qt::Horizontal);
    m_smoothing->setRange(0, 99);
    m_smoothing->setValue(90);
    m_smoothing->setToolTip(tr("Weight of the past in the smoothed loss line"));
    plotOptions->addWidget(m_smoothing, 1);
    m_logScale = new QCheckBox(tr("Log"));
    plotOptions->addWidget(m_logScale);
    leftLayout->addLayout(plotOptions);
    leftLayout->addStretch(1);
    left->setMaximumWidth(300);

    auto* split = new QSplitter(Qt::Horizontal);
    m_loss = new LossPlot;
    m_attention = new AttentionView;
    split->addWidget(m_loss);
    split->addWidget(m_attention);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    outer->addWidget(left);
    outer->addWidget(split, 1);

    connect(m_smoothing, &QSlider::valueChanged, this,
            [this](int v) { m_loss->setSmoothing(v / 100.0); });
    connect(m_logScale, &QCheckBox::toggled, m_loss, &LossPlot::setLogScale);
    connect(m_train, &QPushButton::clicked, this, [this] { train(); });
    connect(m_pause, &QPushButton::clicked, this, [this] {
        if (m_session->isPaused()) m_session->resume();
        else m_session->pause();
    });
    connect(m_stop, &QPushButton::clicked, m_session, &TrainingSession::stop);
    connect(m_lr, &QDoubleSpinBox::valueChanged, this, [this](double v) {
        if (m_session->isRunning()) m_session->setLearningRate(v);
    });
    connect(m_session, &TrainingSession::stepsArrived, this, &Dashboard::onSteps);
    connect(m_session, &TrainingSession::epochEnded, this, [this](const EpochMetrics& m) {
        m_loss->addEpoch(m);
    });
    connect(m_session, &TrainingSession::attentionArrived, m_attention,
            &AttentionView::setSnapshots);
    connect(m_session, &TrainingSession::pausedChanged, this, [this](bool paused) {
        updateButtons();
        emit stateChanged(paused ? tr("Paused") : tr("Training"));
    });
    connect(m_session, &TrainingSession::problem, this, &Dashboard::showProblem);
    connect(m_session, &TrainingSession::finished, this, &Dashboard::onFinished);
    connect(m_model, &EditorModel::documentReset, this, &Dashboard::loadSettings);
    loadSettings();
    updateButtons();
}

Dashboard::~Dashboard() = default;

void Dashboard::loadSettings() {
    const TrainingSettings& s = m_model->document().training;
    m_epochs->setValue(int(s.epochs));
    m_batch->setValue(int(s.batchSize));
    const int opt = m_optimizer->findText(QString::fromStdString(s.optimizer.name));
    m_optimizer->setCurrentIndex(opt >= 0 ? opt : 1);
    {
        QSignalBlocker block(m_lr);
        m_lr->setValue(s.optimizer.learningRate);
    }
    m_seed->setValue(int(s.seed));
    const int dev = m_device->findText(QString::fromStdString(s.device));
    m_device->setCurrentIndex(dev >= 0 ? dev : 0);
}

TrainingSettings Dashboard::settings() const {
    TrainingSettings s = m_model->document().training;
    s.epochs = m_epochs->value();
    s.batchSize = m_batch->value();
    s.optimizer.name = m_optimizer->currentText().toStdString();
    s.optimizer.learningRate = m_lr->value();
    s.seed = uint64_t(m_seed->value());
    s.device = m_device->currentText().toStdString();
    return s;
}

bool Dashboard::train(int64_t maxSteps) {
    if (m_session->isRunning()) return false;
    const TrainingSettings s = settings();
    m_message->hide();
    auto ok = m_session->start(m_model->document(), m_documentDir(), s, maxSteps);
    if (!ok) {
        showProblem(QString::fromStdString(ok.message()));
        m_status->setText(tr("Not started"));
        return false;
    }
    m_loss->clear();
    m_attention->clear();
    m_batchSize = s.batchSize;
    m_epochCount = s.epochs;
    m_progress->setRange(0, int(std::min<int64_t>(m_session->totalSteps(), INT_MAX)));
    m_progress->setValue(0);
    m_status->setText(tr("Starting on %1").arg(m_session->deviceName()));
    m_clock.start();
    updateButtons();
    emit stateChanged(tr("Training on %1").arg(m_session->deviceName()));
    return true;
}

void Dashboard::onSteps(const QVector<StepMetrics>& steps) {
    m_loss->addSteps(steps);
    const StepMetrics& last = steps.back();
    m_progress->setValue(int(std::min<int64_t>(last.step, m_progress->maximum())));
    const int64_t remaining = std::max<int64_t>(0, m_session->totalSteps() - last.step);
    const double perStep = last.step > 0 ? m_clock.elapsed() / 1000.0 / double(last.step) : 0;
    m_status->setText(tr("Epoch %1/%2 · step %3/%4 · %5 samples/s · ETA %6 · loss %7")
                          .arg(last.epoch + 1)
                          .arg(m_epochCount)
                          .arg(last.step)
                          .arg(m_session->totalSteps())
                          .arg(double(last.samplesPerSecond), 0, 'f', 0)
                          .arg(clock(perStep * double(remaining)))
                          .arg(double(last.loss), 0, 'g', 4));
    if (!std::isfinite(last.loss)) {
        showProblem(tr("The loss became %1 at step %2.").arg(double(last.loss)).arg(last.step));
    }
}

void Dashboard::onFinished(const QString& how) {
    m_status->setText(tr("Finished (%1) after %2").arg(how, clock(m_clock.elapsed() / 1000.0)));
    if (how != QLatin1String("failed")) m_progress->setValue(m_progress->maximum());
    updateButtons();
    emit stateChanged(tr("Training %1").arg(how));
}

void Dashboard::showProblem(const QString& text) {
    m_message->setText(withRemedy(text));
    m_message->show();
}

void Dashboard::updateButtons() {
    const bool running = m_session->isRunning();
    m_train->setEnabled(!running);
    m_pause->setEnabled(running);
    m_stop->setEnabled(running);
    m_pause->setText(m_session->isPaused() ? tr("Resume") : tr("Pause"));
    for (QWidget* w : std::initializer_list<QWidget*>{m_epochs, m_batch, m_optimizer, m_seed,
                                                      m_device}) {
        w->setEnabled(!running);
    }
}

}  // namespace strata::ui

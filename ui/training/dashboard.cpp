#include "ui/training/dashboard.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QToolButton>
#include <QVBoxLayout>
#include <climits>
#include <cmath>
#include <qcustomplot.h>

#include "core/engine/backend.h"
#include "ui/node_editor/editor_model.h"
#include "ui/training/attention_view.h"
#include "ui/training/confusion_view.h"
#include "ui/training/loss_plot.h"
#include "ui/training/training_session.h"

namespace strata::ui {

namespace {

QString clock(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return QStringLiteral("–");
    const qint64 s = qint64(seconds + 0.5);
    if (s >= 3600) {
        return QString("%1:%2:%3")
            .arg(s / 3600)
            .arg(s / 60 % 60, 2, 10, QChar('0'))
            .arg(s % 60, 2, 10, QChar('0'));
    }
    return QString("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QChar('0'));
}

// What a person can do about a problem, added when the trainer's message does not say it.
QString withRemedy(const QString& message) {
    QString text = message;
    const QString lower = message.toLower();
    if ((lower.contains("nan") || lower.contains("non-finite") || lower.contains("infinit")) &&
        !lower.contains("lower the") && !lower.contains("reduce")) {
        text += QObject::tr(" Try a lower learning rate, gradient clipping, or normalised inputs, "
                            "then resume.");
    } else if ((lower.contains("out of memory") || lower.contains("does not fit")) &&
               !lower.contains("smaller")) {
        text += QObject::tr(" Try a smaller batch size or a smaller model.");
    } else if (lower.contains("device lost") || lower.contains("device was lost")) {
        text += QObject::tr(" The graph and the weights of the last epoch are kept: train again, "
                            "or choose the cpu device.");
    }
    return text;
}

// Learning rates, epsilons and decays span decades: shown as 0.001, 1e-08, 3e-05.
class ScientificSpinBox : public QDoubleSpinBox {
public:
    ScientificSpinBox(double lo, double hi) {
        setDecimals(15);
        setRange(lo, hi);
        setStepType(QAbstractSpinBox::AdaptiveDecimalStepType);
        setKeyboardTracking(false);
    }
    QString textFromValue(double v) const override { return QString::number(v, 'g', 6); }
    double valueFromText(const QString& text) const override { return text.toDouble(); }
    QValidator::State validate(QString& text, int&) const override {
        bool ok = false;
        const double v = text.toDouble(&ok);
        if (ok && v >= minimum() && v <= maximum()) return QValidator::Acceptable;
        static const QRegularExpression partial("^[0-9.]*(e[-+]?[0-9]*)?$");
        return partial.match(text.toLower()).hasMatch() ? QValidator::Intermediate
                                                       : QValidator::Invalid;
    }
};

QDoubleSpinBox* fraction(double lo, double hi, int decimals, double step) {
    auto* box = new QDoubleSpinBox;
    box->setRange(lo, hi);
    box->setDecimals(decimals);
    box->setSingleStep(step);
    box->setKeyboardTracking(false);
    return box;
}

QSpinBox* integer(int lo, int hi) {
    auto* box = new QSpinBox;
    box->setRange(lo, hi);
    box->setKeyboardTracking(false);
    return box;
}

}  // namespace

Dashboard::Dashboard(EditorModel* model, std::function<QString()> documentDir, QWidget* parent)
    : QWidget(parent),
      m_model(model),
      m_documentDir(std::move(documentDir)),
      m_session(new TrainingSession(this)) {
    auto* outer = new QHBoxLayout(this);
    outer->setContentsMargins(4, 4, 4, 4);

    // ---- left: controls, progress, problems, settings ----
    auto* left = new QWidget;
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->setSpacing(4);
    auto* buttons = new QHBoxLayout;
    m_train = new QPushButton(tr("Train"));
    m_train->setToolTip(tr("Train the graph on its dataset with these settings"));
    m_pause = new QPushButton(tr("Pause"));
    m_stop = new QPushButton(tr("Stop"));
    m_checkpoint = new QPushButton(tr("Checkpoint…"));
    m_checkpoint->setToolTip(tr("Save a checkpoint of this run to a file; `strata train --resume "
                                "FILE` continues from it"));
    for (QPushButton* b : {m_train, m_pause, m_stop, m_checkpoint}) {
        b->setMinimumWidth(10);
        buttons->addWidget(b);
    }
    leftLayout->addLayout(buttons);
    m_progress = new QProgressBar;
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progress->setFormat(tr("Not started"));
    m_progress->setTextVisible(true);
    leftLayout->addWidget(m_progress);
    m_status = new QLabel(tr("Idle"));
    m_status->setWordWrap(true);
    leftLayout->addWidget(m_status);
    m_message = new QLabel;
    m_message->setWordWrap(true);
    m_message->setStyleSheet("QLabel { color: #ff8a7a; border: 1px solid #a0483c; "
                             "border-radius: 3px; padding: 3px; }");
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_message->hide();
    leftLayout->addWidget(m_message);
    auto* scroll = new QScrollArea;
    scroll->setWidget(buildSettings());
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    leftLayout->addWidget(scroll, 1);
    left->setMinimumWidth(250);
    left->setMaximumWidth(330);

    // ---- right: the loss plot with its options, and the other views in tabs ----
    m_loss = new LossPlot;
    auto* lossPane = new QWidget;
    auto* lossLayout = new QVBoxLayout(lossPane);
    lossLayout->setContentsMargins(0, 0, 0, 0);
    lossLayout->setSpacing(2);
    auto* plotOptions = new QHBoxLayout;
    plotOptions->addWidget(new QLabel(tr("Smoothing")));
    m_smoothing = new QSlider(Qt::Horizontal);
    m_smoothing->setRange(0, 99);
    m_smoothing->setValue(90);
    m_smoothing->setToolTip(tr("Weight of the past in the smoothed loss line (0: raw)"));
    plotOptions->addWidget(m_smoothing, 1);
    m_logScale = new QCheckBox(tr("Log scale"));
    m_logScale->setToolTip(tr("Logarithmic loss and learning-rate axes"));
    plotOptions->addWidget(m_logScale);
    m_export = new QToolButton;
    m_export->setText(tr("Export"));
    m_export->setPopupMode(QToolButton::InstantPopup);
    auto* menu = new QMenu(m_export);
    menu->addAction(tr("Plots as PNG…"), this, [this] {
        exportWithDialog(tr("Export plots"), tr("PNG image (*.png)"), ".png",
                         [this](const QString& p) { return exportPlotsPng(p); });
    });
    menu->addAction(tr("Numbers as CSV…"), this, [this] {
        exportWithDialog(tr("Export training numbers"), tr("CSV (*.csv)"), ".csv",
                         [this](const QString& p) { return exportCsv(p); });
    });
    menu->addAction(tr("Confusion matrix as PNG…"), this, [this] {
        exportWithDialog(tr("Export confusion matrix"), tr("PNG image (*.png)"), ".png",
                         [this](const QString& p) { return exportConfusionPng(p); });
    });
    menu->addAction(tr("Attention maps as PNG…"), this, [this] {
        exportWithDialog(tr("Export attention maps"), tr("PNG image (*.png)"), ".png",
                         [this](const QString& p) { return exportAttentionPng(p); });
    });
    m_export->setMenu(menu);
    plotOptions->addWidget(m_export);
    lossLayout->addLayout(plotOptions);
    lossLayout->addWidget(m_loss, 1);

    m_tabs = new QTabWidget;
    m_tabs->setDocumentMode(true);
    m_tabs->addTab(m_loss->accuracyPlot(), tr("Accuracy"));
    m_tabs->addTab(m_loss->learningRatePlot(), tr("Learning rate"));
    m_confusion = new ConfusionView;
    m_confusion->setThumbnailSource([this](int64_t i) { return m_session->thumbnail(i); });
    m_tabs->addTab(m_confusion, tr("Confusion"));
    m_attention = new AttentionView;
    m_tabs->addTab(m_attention, tr("Attention"));

    auto* split = new QSplitter(Qt::Horizontal);
    split->addWidget(lossPane);
    split->addWidget(m_tabs);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setChildrenCollapsible(false);
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
    connect(m_checkpoint, &QPushButton::clicked, this, [this] {
        exportWithDialog(tr("Save checkpoint"), tr("Strata checkpoint (*.ckpt)"), ".ckpt",
                         [this](const QString& p) { return saveCheckpoint(p); });
    });
    connect(m_session, &TrainingSession::stepsArrived, this, &Dashboard::onSteps);
    connect(m_session, &TrainingSession::epochEnded, this, &Dashboard::onEpoch);
    connect(m_session, &TrainingSession::attentionArrived, this,
            [this](const std::vector<AttentionSnapshot>& s) {
                m_attention->setSnapshots(s);
                if (!m_tabChosen && !s.empty()) {
                    m_tabChosen = true;
                    m_tabs->setCurrentWidget(m_attention);
                }
            });
    connect(m_session, &TrainingSession::pausedChanged, this, [this](bool paused) {
        if (paused) {
            m_pausedClock.start();
        } else if (m_pausedClock.isValid()) {
            m_pausedMs += m_pausedClock.elapsed();
            m_pausedClock.invalidate();
        }
        updateButtons();
        if (paused) m_status->setText(tr("Paused at step %1").arg(m_progress->value()));
        emit stateChanged(paused ? tr("Paused") : tr("Training on %1").arg(m_session->deviceName()));
    });
    connect(m_session, &TrainingSession::checkpointSaved, this, [this](const QString& path) {
        emit stateChanged(tr("Checkpoint saved to %1").arg(path));
    });
    connect(m_session, &TrainingSession::problem, this, &Dashboard::showProblem);
    connect(m_session, &TrainingSession::finished, this, &Dashboard::onFinished);
    connect(m_model, &EditorModel::documentReset, this, &Dashboard::loadSettings);
    loadSettings();
    updateButtons();
}

Dashboard::~Dashboard() = default;

QWidget* Dashboard::buildSettings() {
    auto* box = new QWidget;
    auto* layout = new QVBoxLayout(box);
    layout->setContentsMargins(0, 0, 4, 0);
    auto form = [](QGroupBox* group) {
        auto* f = new QFormLayout(group);
        f->setContentsMargins(6, 4, 6, 4);
        f->setVerticalSpacing(3);
        f->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
        return f;
    };

    auto* run = new QGroupBox(tr("Run"));
    QFormLayout* runForm = form(run);
    m_epochs = integer(1, 1000000);
    m_batch = integer(1, 1 << 20);
    m_seed = integer(0, INT_MAX);
    m_seed->setToolTip(tr("Initial weights, data order and dropout follow from it"));
    m_device = new QComboBox;
    for (const DeviceOption& d : availableDevices()) {
        m_device->addItem(QString::fromStdString(d.name));
        m_device->setItemData(m_device->count() - 1, QString::fromStdString(d.description),
                              Qt::ToolTipRole);
    }
    m_device->setToolTip(tr("The devices `strata devices` lists; auto: the best GPU, else the CPU"));
    m_patience = integer(0, 1000000);
    m_patience->setSpecialValueText(tr("off"));
    m_patience->setToolTip(tr("Stop after this many epochs without a lower validation loss"));
    runForm->addRow(tr("Epochs"), m_epochs);
    runForm->addRow(tr("Batch size"), m_batch);
    runForm->addRow(tr("Seed"), m_seed);
    runForm->addRow(tr("Device"), m_device);
    runForm->addRow(tr("Early stop"), m_patience);
    layout->addWidget(run);

    auto* opt = new QGroupBox(tr("Optimizer"));
    m_optimizerForm = form(opt);
    m_optimizer = new QComboBox;
    m_optimizer->addItems({"sgd", "adam", "adamw", "rmsprop"});
    m_lr = new ScientificSpinBox(1e-9, 10);
    m_lr->setToolTip(tr("Editable while training: the new rate applies from the next step, "
                        "with the schedule on top"));
    m_momentum = fraction(0, 0.999999, 4, 0.05);
    m_nesterov = new QCheckBox;
    m_weightDecay = new ScientificSpinBox(0, 10);
    m_beta1 = fraction(0, 0.999999, 4, 0.01);
    m_beta2 = fraction(0, 0.999999, 5, 0.001);
    m_alpha = fraction(0, 0.999999, 4, 0.01);
    m_alpha->setToolTip(tr("RMSprop's smoothing constant"));
    m_eps = new ScientificSpinBox(1e-15, 1);
    m_optimizerForm->addRow(tr("Optimizer"), m_optimizer);
    m_optimizerForm->addRow(tr("Learning rate"), m_lr);
    m_optimizerForm->addRow(tr("Momentum"), m_momentum);
    m_optimizerForm->addRow(tr("Nesterov"), m_nesterov);
    m_optimizerForm->addRow(tr("Weight decay"), m_weightDecay);
    m_optimizerForm->addRow(tr("Beta 1"), m_beta1);
    m_optimizerForm->addRow(tr("Beta 2"), m_beta2);
    m_optimizerForm->addRow(tr("Alpha"), m_alpha);
    m_optimizerForm->addRow(tr("Epsilon"), m_eps);
    layout->addWidget(opt);

    auto* sched = new QGroupBox(tr("Schedule"));
    m_scheduleForm = form(sched);
    m_schedule = new QComboBox;
    m_schedule->addItems({"constant", "step", "exponential", "cosine"});
    m_stepSize = integer(1, 1000000);
    m_stepSize->setToolTip(tr("Epochs between two decays"));
    m_gamma = fraction(0.0001, 1, 4, 0.05);
    m_gamma->setToolTip(tr("Decay factor"));
    m_minLr = new ScientificSpinBox(0, 10);
    m_minLr->setToolTip(tr("The cosine's floor"));
    m_warmup = integer(0, 1000000000);
    m_warmup->setToolTip(tr("Steps of linear warm-up from 0, for any schedule"));
    m_clip = fraction(0, 1e6, 3, 0.5);
    m_clip->setSpecialValueText(tr("off"));
    m_clip->setToolTip(tr("Clip the global gradient norm to this value"));
    m_scheduleForm->addRow(tr("Schedule"), m_schedule);
    m_scheduleForm->addRow(tr("Step size"), m_stepSize);
    m_scheduleForm->addRow(tr("Gamma"), m_gamma);
    m_scheduleForm->addRow(tr("Minimum rate"), m_minLr);
    m_scheduleForm->addRow(tr("Warm-up steps"), m_warmup);
    m_scheduleForm->addRow(tr("Clip gradients"), m_clip);
    layout->addWidget(sched);
    layout->addStretch(1);

    m_lockedWhileTraining = {m_epochs,      m_batch, m_seed,  m_device, m_patience, m_optimizer,
                             m_momentum,    m_nesterov, m_weightDecay, m_beta1, m_beta2,
                             m_alpha,       m_eps,   m_schedule, m_stepSize, m_gamma, m_minLr,
                             m_warmup,      m_clip};

    for (QSpinBox* s : {m_epochs, m_batch, m_seed, m_patience, m_stepSize, m_warmup}) {
        connect(s, &QSpinBox::valueChanged, this, &Dashboard::writeSettings);
    }
    for (QDoubleSpinBox* s :
         {m_momentum, m_weightDecay, m_beta1, m_beta2, m_alpha, m_eps, m_gamma, m_minLr, m_clip}) {
        connect(s, &QDoubleSpinBox::valueChanged, this, &Dashboard::writeSettings);
    }
    for (QComboBox* c : {m_optimizer, m_schedule, m_device}) {
        connect(c, &QComboBox::currentIndexChanged, this, [this] {
            updateOptimizerRows();
            writeSettings();
        });
    }
    connect(m_nesterov, &QCheckBox::toggled, this, &Dashboard::writeSettings);
    connect(m_lr, &QDoubleSpinBox::valueChanged, this, [this](double v) {
        if (m_session->isRunning() && !m_loading) m_session->setLearningRate(v);
        writeSettings();
    });
    return box;
}

void Dashboard::updateOptimizerRows() {
    const QString o = m_optimizer->currentText(), s = m_schedule->currentText();
    m_optimizerForm->setRowVisible(m_momentum, o == "sgd" || o == "rmsprop");
    m_optimizerForm->setRowVisible(m_nesterov, o == "sgd");
    m_optimizerForm->setRowVisible(m_beta1, o == "adam" || o == "adamw");
    m_optimizerForm->setRowVisible(m_beta2, o == "adam" || o == "adamw");
    m_optimizerForm->setRowVisible(m_alpha, o == "rmsprop");
    m_optimizerForm->setRowVisible(m_eps, o != "sgd");
    m_scheduleForm->setRowVisible(m_stepSize, s == "step");
    m_scheduleForm->setRowVisible(m_gamma, s == "step" || s == "exponential");
    m_scheduleForm->setRowVisible(m_minLr, s == "cosine");
}

void Dashboard::loadSettings() {
    m_loading = true;
    const TrainingSettings& s = m_model->document().training;
    const OptimizerSettings& o = s.optimizer;
    m_epochs->setValue(int(std::min<int64_t>(s.epochs, INT_MAX)));
    m_batch->setValue(int(std::min<int64_t>(s.batchSize, INT_MAX)));
    m_seed->setValue(int(std::min<uint64_t>(s.seed, INT_MAX)));
    m_patience->setValue(int(std::min<int64_t>(s.earlyStoppingPatience, INT_MAX)));
    QString device = QString::fromStdString(s.device.empty() ? "auto" : s.device);
    if (m_device->findText(device) < 0) {
        // A device of another machine: kept, so saving does not lose it.
        m_device->addItem(device);
        m_device->setItemData(m_device->count() - 1, tr("not found on this machine"),
                              Qt::ToolTipRole);
    }
    m_device->setCurrentText(device);
    const int opt = m_optimizer->findText(QString::fromStdString(o.name));
    m_optimizer->setCurrentIndex(opt >= 0 ? opt : 1);
    m_lr->setValue(o.learningRate);
    m_momentum->setValue(o.momentum);
    m_nesterov->setChecked(o.nesterov);
    m_weightDecay->setValue(o.weightDecay);
    m_beta1->setValue(o.beta1);
    m_beta2->setValue(o.beta2);
    m_alpha->setValue(o.alpha);
    m_eps->setValue(o.eps);
    const int sched = m_schedule->findText(QString::fromStdString(s.schedule.kind));
    m_schedule->setCurrentIndex(sched >= 0 ? sched : 0);
    m_stepSize->setValue(int(std::min<int64_t>(s.schedule.stepSize, INT_MAX)));
    m_gamma->setValue(s.schedule.gamma);
    m_minLr->setValue(s.schedule.minLearningRate);
    m_warmup->setValue(int(std::min<int64_t>(s.schedule.warmupSteps, INT_MAX)));
    m_clip->setValue(s.clipGradNorm);
    updateOptimizerRows();
    m_loading = false;
}

TrainingSettings Dashboard::settings() const {
    TrainingSettings s = m_model->document().training;
    s.epochs = m_epochs->value();
    s.batchSize = m_batch->value();
    // A seed beyond the box's range stays as the document has it unless edited.
    if (s.seed <= uint64_t(INT_MAX) || m_seed->value() != INT_MAX) s.seed = uint64_t(m_seed->value());
    s.earlyStoppingPatience = m_patience->value();
    s.device = m_device->currentText().toStdString();
    OptimizerSettings& o = s.optimizer;
    o.name = m_optimizer->currentText().toStdString();
    o.learningRate = m_lr->value();
    o.momentum = m_momentum->value();
    o.nesterov = m_nesterov->isChecked();
    o.weightDecay = m_weightDecay->value();
    o.beta1 = m_beta1->value();
    o.beta2 = m_beta2->value();
    o.alpha = m_alpha->value();
    o.eps = m_eps->value();
    s.schedule.kind = m_schedule->currentText().toStdString();
    s.schedule.stepSize = m_stepSize->value();
    s.schedule.gamma = m_gamma->value();
    s.schedule.minLearningRate = m_minLr->value();
    s.schedule.warmupSteps = m_warmup->value();
    s.clipGradNorm = m_clip->value();
    return s;
}

void Dashboard::writeSettings() {
    if (m_loading) return;
    m_model->setTrainingSettings(settings());
}

bool Dashboard::train(int64_t maxSteps) {
    if (m_session->isRunning()) return false;
    writeSettings();
    const TrainingSettings s = settings();
    m_message->hide();
    auto ok = m_session->start(m_model->document(), m_documentDir(), s, maxSteps);
    if (!ok) {
        showProblem(QString::fromStdString(ok.message()));
        m_status->setText(tr("Not started"));
        updateButtons();
        return false;
    }
    m_loss->startRun();
    m_attention->clear();
    m_attention->setTokens(m_session->attentionTokens());
    m_confusion->clear();
    m_tabChosen = false;
    m_progress->setRange(0, int(std::min<int64_t>(m_session->totalSteps(), INT_MAX)));
    m_progress->setValue(0);
    m_progress->setFormat(tr("Epoch 1/%1 · step 0/%2").arg(m_session->epochs()).arg(
        m_session->totalSteps()));
    m_status->setText(tr("Starting on %1").arg(m_session->deviceName()));
    m_clock.start();
    m_pausedClock.invalidate();
    m_pausedMs = 0;
    updateButtons();
    emit stateChanged(tr("Training on %1").arg(m_session->deviceName()));
    return true;
}

void Dashboard::onSteps(const QVector<StepMetrics>& steps) {
    m_loss->addSteps(steps);
    const StepMetrics& last = steps.back();
    m_progress->setValue(int(std::min<int64_t>(last.step, m_progress->maximum())));
    m_progress->setFormat(tr("Epoch %1/%2 · step %3/%4")
                              .arg(last.epoch + 1)
                              .arg(m_session->epochs())
                              .arg(last.step)
                              .arg(m_session->totalSteps()));
    const int64_t remaining = std::max<int64_t>(0, m_session->totalSteps() - last.step);
    // Wall time per step so far (validation passes included), pauses left out.
    const double busy = double(m_clock.elapsed() - m_pausedMs) / 1000.0;
    const double perStep = last.step > 0 ? busy / double(last.step) : kNoValue;
    if (!m_session->isPaused()) {
        m_status->setText(tr("%1 samples/s · ETA %2 · loss %3 · lr %4")
                              .arg(double(last.samplesPerSecond), 0, 'f', 0)
                              .arg(clock(perStep * double(remaining)))
                              .arg(double(last.loss), 0, 'g', 4)
                              .arg(double(last.learningRate), 0, 'g', 3));
    }
    if (!std::isfinite(last.loss)) {
        showProblem(tr("The loss became %1 at step %2.").arg(double(last.loss)).arg(last.step));
    }
}

void Dashboard::onEpoch(const EpochMetrics& m) {
    m_loss->addEpoch(m);
    if (m.classes > 0) {
        m_confusion->setEpoch(m, m_session->classLabels(m.classes));
        if (!m_tabChosen) {
            m_tabChosen = true;
            m_tabs->setCurrentWidget(m_confusion);
        }
    }
}

void Dashboard::onFinished(const QString& how) {
    m_status->setText(tr("Finished (%1) after %2 on %3")
                          .arg(how, clock((m_clock.elapsed() - m_pausedMs) / 1000.0),
                               m_session->deviceName()));
    if (how == QLatin1String("completed")) {
        m_progress->setValue(m_progress->maximum());
        m_progress->setFormat(tr("Done · %1 steps").arg(m_session->totalSteps()));
    } else {
        m_progress->setFormat(m_progress->format() + " · " + how);
    }
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
    m_checkpoint->setEnabled(m_session->canCheckpoint());
    m_pause->setText(m_session->isPaused() ? tr("Resume") : tr("Pause"));
    for (QWidget* w : m_lockedWhileTraining) w->setEnabled(!running);
}

void Dashboard::exportWithDialog(const QString& title, const QString& filter,
                                 const QString& suffix,
                                 const std::function<Result<void>(const QString&)>& write) {
    QString path = QFileDialog::getSaveFileName(this, title, QString(), filter);
    if (path.isEmpty()) return;
    if (!path.endsWith(suffix, Qt::CaseInsensitive)) path += suffix;
    if (auto ok = write(path); !ok) {
        showProblem(QString::fromStdString(ok.message()));
        return;
    }
    emit stateChanged(tr("Wrote %1").arg(path));
}

Result<void> Dashboard::exportPlotsPng(const QString& path) { return m_loss->exportPng(path); }

Result<void> Dashboard::exportCsv(const QString& path) const { return m_loss->exportCsv(path); }

Result<void> Dashboard::exportConfusionPng(const QString& path) {
    return m_confusion->exportPng(path);
}

Result<void> Dashboard::exportAttentionPng(const QString& path) {
    return m_attention->exportPng(path);
}

Result<void> Dashboard::saveCheckpoint(const QString& path) {
    auto ok = m_session->saveCheckpoint(path);
    if (ok && !m_session->isRunning()) emit stateChanged(tr("Checkpoint saved to %1").arg(path));
    return ok;
}

}  // namespace strata::ui

#pragma once
// The training dashboard (a dock below the canvas). Left: Train / Pause / Stop / Save
// checkpoint, a progress bar with epoch and step, samples/s and ETA, problems with their remedy,
// and every training setting (read from and written back to the document, so saving keeps them;
// the learning rate stays editable while training). Right: the loss plot (raw loss faint, an EMA
// line with a smoothing slider, validation loss per epoch, best epoch marked, earlier runs faint,
// log scale, values on hover) beside tabs with accuracy, learning rate, the confusion matrix and
// the attention maps; everything exports as PNG, the numbers as CSV.
#include <QElapsedTimer>
#include <QVector>
#include <QWidget>
#include <functional>

#include "core/io/document.h"
#include "core/train/metrics.h"
#include "core/util/result.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QLabel;
class QProgressBar;
class QPushButton;
class QSlider;
class QSpinBox;
class QTabWidget;
class QToolButton;

namespace strata::ui {

class AttentionView;
class ConfusionView;
class EditorModel;
class LossPlot;
class TrainingSession;

class Dashboard : public QWidget {
    Q_OBJECT
public:
    // documentDir: where the document's relative dataset paths resolve.
    Dashboard(EditorModel* model, std::function<QString()> documentDir, QWidget* parent = nullptr);
    ~Dashboard() override;

    TrainingSession* session() const { return m_session; }
    LossPlot* lossPlot() const { return m_loss; }
    AttentionView* attentionView() const { return m_attention; }
    ConfusionView* confusionView() const { return m_confusion; }
    QTabWidget* tabs() const { return m_tabs; }
    QPushButton* trainButton() const { return m_train; }
    QPushButton* pauseButton() const { return m_pause; }
    QPushButton* stopButton() const { return m_stop; }
    QPushButton* checkpointButton() const { return m_checkpoint; }
    QLabel* messageLabel() const { return m_message; }
    QLabel* statusLabel() const { return m_status; }
    QProgressBar* progressBar() const { return m_progress; }
    QSlider* smoothingSlider() const { return m_smoothing; }
    QCheckBox* logScaleBox() const { return m_logScale; }

    // Settings editors.
    QSpinBox* epochsBox() const { return m_epochs; }
    QSpinBox* batchBox() const { return m_batch; }
    QComboBox* optimizerBox() const { return m_optimizer; }
    QDoubleSpinBox* learningRateBox() const { return m_lr; }
    QDoubleSpinBox* momentumBox() const { return m_momentum; }
    QCheckBox* nesterovBox() const { return m_nesterov; }
    QDoubleSpinBox* weightDecayBox() const { return m_weightDecay; }
    QDoubleSpinBox* beta1Box() const { return m_beta1; }
    QDoubleSpinBox* beta2Box() const { return m_beta2; }
    QDoubleSpinBox* alphaBox() const { return m_alpha; }
    QDoubleSpinBox* epsBox() const { return m_eps; }
    QComboBox* scheduleBox() const { return m_schedule; }
    QSpinBox* stepSizeBox() const { return m_stepSize; }
    QDoubleSpinBox* gammaBox() const { return m_gamma; }
    QDoubleSpinBox* minLearningRateBox() const { return m_minLr; }
    QSpinBox* warmupBox() const { return m_warmup; }
    QDoubleSpinBox* clipBox() const { return m_clip; }
    QSpinBox* patienceBox() const { return m_patience; }
    QSpinBox* seedBox() const { return m_seed; }
    QComboBox* deviceBox() const { return m_device; }

    // The settings the editors show (the document's, as edited).
    TrainingSettings settings() const;
    // Starts training the model's document; maxSteps > 0 ends early (screenshots, tests).
    bool train(int64_t maxSteps = 0);

    // What the Export menu and the Save checkpoint button do after their file dialogs.
    Result<void> exportPlotsPng(const QString& path);
    Result<void> exportCsv(const QString& path) const;
    Result<void> exportConfusionPng(const QString& path);
    Result<void> exportAttentionPng(const QString& path);
    Result<void> saveCheckpoint(const QString& path);

signals:
    void stateChanged(const QString& state);  // for the status bar

private:
    QWidget* buildSettings();
    void loadSettings();
    void writeSettings();
    void updateOptimizerRows();
    void onSteps(const QVector<StepMetrics>& steps);
    void onEpoch(const EpochMetrics& m);
    void onFinished(const QString& how);
    void showProblem(const QString& text);
    void updateButtons();
    void exportWithDialog(const QString& title, const QString& filter, const QString& suffix,
                          const std::function<Result<void>(const QString&)>& write);

    EditorModel* m_model;
    std::function<QString()> m_documentDir;
    TrainingSession* m_session;
    LossPlot* m_loss;
    AttentionView* m_attention;
    ConfusionView* m_confusion;
    QTabWidget* m_tabs;

    QFormLayout* m_optimizerForm = nullptr;
    QFormLayout* m_scheduleForm = nullptr;
    QSpinBox* m_epochs;
    QSpinBox* m_batch;
    QComboBox* m_optimizer;
    QDoubleSpinBox* m_lr;
    QDoubleSpinBox* m_momentum;
    QCheckBox* m_nesterov;
    QDoubleSpinBox* m_weightDecay;
    QDoubleSpinBox* m_beta1;
    QDoubleSpinBox* m_beta2;
    QDoubleSpinBox* m_alpha;
    QDoubleSpinBox* m_eps;
    QComboBox* m_schedule;
    QSpinBox* m_stepSize;
    QDoubleSpinBox* m_gamma;
    QDoubleSpinBox* m_minLr;
    QSpinBox* m_warmup;
    QDoubleSpinBox* m_clip;
    QSpinBox* m_patience;
    QSpinBox* m_seed;
    QComboBox* m_device;
    std::vector<QWidget*> m_lockedWhileTraining;

    QPushButton* m_train;
    QPushButton* m_pause;
    QPushButton* m_stop;
    QPushButton* m_checkpoint;
    QToolButton* m_export;
    QProgressBar* m_progress;
    QLabel* m_status;
    QLabel* m_message;
    QSlider* m_smoothing;
    QCheckBox* m_logScale;

    QElapsedTimer m_clock;        // since the run started
    QElapsedTimer m_pausedClock;  // since the current pause began
    qint64 m_pausedMs = 0;        // pauses so far, left out of the ETA
    bool m_loading = false;       // editors are being filled from the document
    bool m_tabChosen = false;     // this run already brought its most telling tab forward
};

}  // namespace strata::ui

#pragma once
// The training dashboard (a dock below the canvas): settings, Train / Pause / Stop, the learning
// rate editable while training, progress with epoch, step, samples/s and ETA, the loss plot (raw
// loss faint, an EMA line with a smoothing slider, validation loss per epoch, accuracy on a second
// axis, log-scale toggle), problems with their remedy, and the attention view.
#include <QElapsedTimer>
#include <QVector>
#include <QWidget>
#include <functional>

#include "core/io/document.h"
#include "core/train/metrics.h"

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QDoubleSpinBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSlider;
class QSpinBox;

namespace strata::ui {

class AttentionView;
class EditorModel;
class TrainingSession;

// The loss curves. Graph 0: raw loss per step, 1: its EMA, 2: validation loss per epoch,
// 3: train accuracy, 4: validation accuracy (right axis).
class LossPlot : public QWidget {
    Q_OBJECT
public:
    explicit LossPlot(QWidget* parent = nullptr);
    void clear();
    void addSteps(const QVector<StepMetrics>& steps);
    void addEpoch(const EpochMetrics& m);
    void setSmoothing(double alpha);  // 0: EMA equals the raw loss; towards 1: smoother
    void setLogScale(bool on);
    QCustomPlot* plot() const { return m_plot; }
    int rawPointCount() const;

private:
    void recomputeEma();
    void refresh();
    QCustomPlot* m_plot;
    double m_smoothing = 0.9;
    double m_ema = 0;
    bool m_haveEma = false;
    bool m_log = false;
};

class Dashboard : public QWidget {
    Q_OBJECT
public:
    // documentDir: where the document's relative dataset paths resolve.
    Dashboard(EditorModel* model, std::function<QString()> documentDir, QWidget* parent = nullptr);
    ~Dashboard() override;

    TrainingSession* session() const { return m_session; }
    LossPlot* lossPlot() const { return m_loss; }
    AttentionView* attentionView() const { return m_attention; }
    QPushButton* trainButton() const { return m_train; }
    QPushButton* pauseButton() const { return m_pause; }
    QPushButton* stopButton() const { return m_stop; }
    QLabel* messageLabel() const { return m_message; }
    QProgressBar* progressBar() const { return m_progress; }
    QSpinBox* epochsBox() const { return m_epochs; }
    QComboBox* deviceBox() const { return m_device; }
    QDoubleSpinBox* learningRateBox() const { return m_lr; }

    // The settings the next run uses: the document's, overridden by the widgets.
    TrainingSettings settings() const;
    // Starts training the model's document; maxSteps > 0 ends early (screenshots, tests).
    bool train(int64_t maxSteps = 0);

signals:
    void stateChanged(const QString& state);  // for the status bar

private:
    void loadSettings();
    void onSteps(const QVector<StepMetrics>& steps);
    void onFinished(const QString& how);
    void showProblem(const QString& text);
    void updateButtons();

    EditorModel* m_model;
    std::function<QString()> m_documentDir;
    TrainingSession* m_session;
    LossPlot* m_loss;
    AttentionView* m_attention;
    QSpinBox* m_epochs;
    QSpinBox* m_batch;
    QComboBox* m_optimizer;
    QDoubleSpinBox* m_lr;
    QSpinBox* m_seed;
    QComboBox* m_device;
    QPushButton* m_train;
    QPushButton* m_pause;
    QPushButton* m_stop;
    QProgressBar* m_progress;
    QLabel* m_status;
    QLabel* m_message;
    QSlider* m_smoothing;
    QCheckBox* m_logScale;
    QElapsedTimer m_clock;
    int64_t m_batchSize = 0;
    int64_t m_epochCount = 0;
};

}  // namespace strata::ui

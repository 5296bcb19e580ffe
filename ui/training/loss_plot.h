#pragma once
// The training curves, three QCustomPlots fed from the same numbers:
//  - loss per step: raw (faint) and its exponential moving average (smoothing slider), the
//    validation loss per epoch on the same axes, the best epoch marked (lowest validation loss,
//    else training loss), and the smoothed and validation curves of earlier runs since the studio
//    opened, drawn faintly;
//  - train and validation accuracy per epoch (classifiers);
//  - the learning rate per step (schedules, warm-up, edits while training).
// Hovering shows the nearest point's step and value. The numbers export as CSV, the plots as one
// PNG. The loss plot is this widget; the other two are placed by the dashboard.
#include <QImage>
#include <QVector>
#include <QWidget>
#include <map>
#include <vector>

#include "core/train/metrics.h"
#include "core/util/result.h"

class QCustomPlot;
class QCPGraph;
class QCPItemText;
class QCPItemTracer;

namespace strata::ui {

class LossPlot : public QWidget {
    Q_OBJECT
public:
    static constexpr int kEarlierRuns = 4;  // earlier runs kept for comparison

    explicit LossPlot(QWidget* parent = nullptr);

    // A new run begins: the current curves become a faint earlier run (the oldest is dropped
    // beyond kEarlierRuns) and the current ones start empty.
    void startRun();
    void clear();  // everything, earlier runs included
    void addSteps(const QVector<StepMetrics>& steps);
    void addEpoch(const EpochMetrics& m);
    void setSmoothing(double alpha);  // 0: EMA equals the raw loss; towards 1: smoother
    double smoothing() const { return m_smoothing; }
    void setLogScale(bool on);  // loss and learning rate

    QCustomPlot* plot() const { return m_plot; }  // graphs 0 raw, 1 EMA, 2 validation; then runs
    QCustomPlot* accuracyPlot() const { return m_accuracy; }
    QCustomPlot* learningRatePlot() const { return m_lr; }
    QCPGraph* rawGraph() const;
    QCPGraph* emaGraph() const;
    QCPGraph* valGraph() const;
    QCPGraph* trainAccuracyGraph() const;  // values in percent, x = epoch (1-based)
    QCPGraph* valAccuracyGraph() const;
    QCPGraph* learningRateGraph() const;
    int rawPointCount() const;
    int earlierRunCount() const { return int(m_runs.size()); }

    // The epoch with the lowest validation loss (training loss without validation), 0-based;
    // -1 before the first epoch.
    int bestEpoch() const { return m_best; }
    QCPItemTracer* bestMarker() const { return m_bestMarker; }
    QString bestLabel() const;

    // Moves `plot`'s hover tracer to the data point nearest `pixel` (within a few pixels) and
    // returns its description ("loss (smoothed) · step 120: 0.4321"); empty when none is near.
    QString hoverAt(QCustomPlot* plot, const QPoint& pixel);
    QString hoverText() const { return m_hoverText; }

    // One row per step: step, epoch, loss, smoothed loss, learning rate, gradient norm,
    // samples/s, and on an epoch's last step its train/validation loss and accuracy.
    Result<void> exportCsv(const QString& path) const;
    // The loss plot above the accuracy and learning-rate plots, as one picture.
    QImage render(int width = 1200);
    Result<void> exportPng(const QString& path);

protected:
    void changeEvent(QEvent* e) override;
    bool eventFilter(QObject* watched, QEvent* e) override;

private:
    struct Hover {
        QCPItemTracer* tracer = nullptr;
        QCPItemText* label = nullptr;
        QString keyName;  // "step", "epoch"
    };
    struct Run {
        std::vector<QCPGraph*> graphs;  // faint copies in the three plots
    };
    void setUpHover(QCustomPlot* plot, const QString& keyName);
    void hideHover();
    void recomputeEma();
    void updateBest();
    void refresh();
    void applyPalette();

    QCustomPlot* m_plot;
    QCustomPlot* m_accuracy;
    QCustomPlot* m_lr;
    std::map<QCustomPlot*, Hover> m_hover;
    // Key and value ranges per graph, extended by the points appended since the last refresh so
    // that a long run does not rescan every point ~30 times a second. Cleared when data is
    // replaced rather than appended (smoothing, a new run).
    struct Ranges {
        int count = 0;
        double keyLo = 0, keyHi = 0, lo = 0, hi = 0, posLo = 0;  // posLo: the lowest value > 0
        bool any = false, anyPositive = false;
    };
    const Ranges& rangesOf(QCPGraph* g);
    std::map<QCPGraph*, Ranges> m_ranges;
    QString m_hoverText;
    QCPItemTracer* m_bestMarker = nullptr;
    QCPItemText* m_bestText = nullptr;
    int m_best = -1;

    QVector<StepMetrics> m_steps;
    QVector<double> m_emaValues;  // parallel to m_steps; NaN where the loss was not finite
    std::vector<EpochMetrics> m_epochs;  // without confusion data
    std::vector<Run> m_runs;
    double m_smoothing = 0.9;
    double m_ema = 0;
    bool m_haveEma = false;
    bool m_log = false;
};

}  // namespace strata::ui

#pragma once
// Attention maps of the latest snapshot: for the chosen multi_head_attention or transformer node
// (the layer selector), one QCPColorMap heatmap per head, or only the chosen head. Rows are
// queries (top to bottom), columns keys; colour is the probability on a fixed 0..1 scale so maps
// compare across steps.
#include <QWidget>
#include <vector>

#include "core/train/metrics.h"

class QComboBox;
class QCustomPlot;
class QLabel;

namespace strata::ui {

class AttentionView : public QWidget {
    Q_OBJECT
public:
    explicit AttentionView(QWidget* parent = nullptr);
    void setSnapshots(const std::vector<AttentionSnapshot>& snapshots);
    void clear();

    int heatmapCount() const;
    QComboBox* layerBox() const { return m_layer; }
    QComboBox* headBox() const { return m_head; }
    QCustomPlot* plot() const { return m_plot; }

private:
    void rebuild();
    const AttentionSnapshot* current() const;

    std::vector<AttentionSnapshot> m_snapshots;
    QComboBox* m_layer;
    QComboBox* m_head;
    QLabel* m_caption;
    QCustomPlot* m_plot;
    // What the plot's layout was built for; the maps are rebuilt only when it changes.
    QString m_builtFor;
};

}  // namespace strata::ui

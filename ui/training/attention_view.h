#pragma once
// Attention maps of the latest snapshot: for the chosen multi_head_attention or transformer node
// (the layer selector), one QCPColorMap heatmap per head, or only the chosen head. Rows are
// queries (top to bottom), columns keys; colour is the probability on a fixed 0..1 scale so maps
// compare across steps. The snapshot's input tokens (from the dataset's vocabulary) label both
// axes when their count matches; the maps export as PNG.
#include <QStringList>
#include <QWidget>
#include <vector>

#include "core/train/metrics.h"
#include "core/util/result.h"

class QComboBox;
class QCPAxis;
class QCustomPlot;
class QLabel;

namespace strata::ui {

class AttentionView : public QWidget {
    Q_OBJECT
public:
    explicit AttentionView(QWidget* parent = nullptr);
    void setSnapshots(const std::vector<AttentionSnapshot>& snapshots);
    // The tokens of the sample the snapshots are taken on; they label queries and keys when the
    // counts match (self-attention over the input), else the positions are numbered.
    void setTokens(const QStringList& tokens);
    void clear();
    Result<void> exportPng(const QString& path);
    // The labels along heatmap i's key (bottom) and query (left) axes, one per position; empty
    // where a label is left out for lack of room.
    QStringList keyLabels(int heatmap) const;
    QStringList queryLabels(int heatmap) const;

    int heatmapCount() const;
    QComboBox* layerBox() const { return m_layer; }
    QComboBox* headBox() const { return m_head; }
    QCustomPlot* plot() const { return m_plot; }

protected:
    void changeEvent(QEvent* e) override;
    void resizeEvent(QResizeEvent* e) override;

private:
    void rebuild();
    void labelAxis(QCPAxis* axis, int64_t count, double pixels);
    const AttentionSnapshot* current() const;

    std::vector<AttentionSnapshot> m_snapshots;
    QStringList m_tokens;
    QComboBox* m_layer;
    QComboBox* m_head;
    QLabel* m_caption;
    QCustomPlot* m_plot;
    // What the plot's layout was built for; the maps are rebuilt only when it changes.
    QString m_builtFor;
};

}  // namespace strata::ui

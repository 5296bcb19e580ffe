#pragma once
// The confusion matrix of the latest epoch's validation pass (classifiers): rows are targets,
// columns predictions, each cell coloured by its share of the row, class labels on both headers.
// Clicking a cell lists the validation samples that fell into it (with a thumbnail for image
// data), so a person can see what the model confuses.
#include <QImage>
#include <QStringList>
#include <QWidget>
#include <functional>
#include <vector>

#include "core/train/metrics.h"
#include "core/util/result.h"

class QLabel;
class QListWidget;
class QTableWidget;

namespace strata::ui {

class ConfusionView : public QWidget {
    Q_OBJECT
public:
    explicit ConfusionView(QWidget* parent = nullptr);

    // A validation sample's picture, or a null image when there is none.
    void setThumbnailSource(std::function<QImage(int64_t)> source);
    // The epoch's matrix and per-row predictions; labels name the classes by index.
    void setEpoch(const EpochMetrics& m, const QStringList& labels);
    void clear();

    int64_t classes() const { return m_classes; }
    int64_t cell(int target, int prediction) const;
    // The validation rows of a cell, as (sample, position) with position 0 for one row per
    // sample.
    std::vector<std::pair<int64_t, int64_t>> cellSamples(int target, int prediction) const;
    void showCell(int target, int prediction);  // what a click does

    QTableWidget* table() const { return m_table; }
    QListWidget* sampleList() const { return m_samples; }
    Result<void> exportPng(const QString& path);

protected:
    void changeEvent(QEvent* e) override;

private:
    void paintCells();

    QLabel* m_caption;
    QTableWidget* m_table;
    QLabel* m_listCaption;
    QListWidget* m_samples;
    std::function<QImage(int64_t)> m_thumbnail;
    int64_t m_classes = 0;
    std::vector<int64_t> m_confusion;        // (classes, classes)
    std::vector<int32_t> m_predictions, m_targets;  // (rows)
    int64_t m_rowsPerSample = 1;
    QStringList m_labels;
};

}  // namespace strata::ui

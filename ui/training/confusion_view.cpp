#include "ui/training/confusion_view.h"

#include <QEvent>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>

#include "ui/training/plot_style.h"

namespace strata::ui {

namespace {
constexpr int kMaxListed = 2000;      // more would only slow the list down
constexpr int kMaxThumbnails = 300;   // pictures for the first ones
}  // namespace

ConfusionView::ConfusionView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_caption = new QLabel(tr("The confusion matrix appears after the first epoch of a "
                              "classifier with validation data."));
    m_caption->setWordWrap(true);
    layout->addWidget(m_caption);

    auto* split = new QSplitter(Qt::Horizontal);
    m_table = new QTableWidget;
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_table->horizontalHeader()->setMinimumSectionSize(18);
    m_table->verticalHeader()->setMinimumSectionSize(14);
    m_table->setToolTip(tr("Rows: target class · columns: predicted class. Click a cell to "
                           "list its validation samples."));
    split->addWidget(m_table);

    auto* right = new QWidget;
    auto* rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    m_listCaption = new QLabel(tr("Click a cell"));
    m_listCaption->setWordWrap(true);
    rightLayout->addWidget(m_listCaption);
    m_samples = new QListWidget;
    m_samples->setViewMode(QListView::IconMode);
    m_samples->setIconSize(QSize(36, 36));
    m_samples->setResizeMode(QListView::Adjust);
    m_samples->setUniformItemSizes(true);
    m_samples->setGridSize(QSize(64, 56));
    m_samples->setMovement(QListView::Static);
    rightLayout->addWidget(m_samples, 1);
    split->addWidget(right);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    layout->addWidget(split, 1);

    connect(m_table, &QTableWidget::cellClicked, this,
            [this](int row, int column) { showCell(row, column); });
}

void ConfusionView::setThumbnailSource(std::function<QImage(int64_t)> source) {
    m_thumbnail = std::move(source);
}

void ConfusionView::clear() {
    m_classes = 0;
    m_confusion.clear();
    m_predictions.clear();
    m_targets.clear();
    m_table->clear();
    m_table->setRowCount(0);
    m_table->setColumnCount(0);
    m_samples->clear();
    m_listCaption->setText(tr("Click a cell"));
    m_caption->setText(tr("The confusion matrix appears after the first epoch of a classifier "
                          "with validation data."));
}

void ConfusionView::setEpoch(const EpochMetrics& m, const QStringList& labels) {
    if (m.classes <= 0 || int64_t(m.confusion.size()) != m.classes * m.classes) return;
    const int keepRow = m_table->currentRow(), keepColumn = m_table->currentColumn();
    const bool sameShape = m.classes == m_classes;
    m_classes = m.classes;
    m_confusion = m.confusion;
    m_predictions = m.predictions;
    m_targets = m.targets;
    m_rowsPerSample = std::max<int64_t>(1, m.rowsPerSample);
    m_labels = labels;
    while (m_labels.size() < m_classes) m_labels << QString::number(m_labels.size());
    const int n = int(m_classes);
    m_table->setRowCount(n);
    m_table->setColumnCount(n);
    m_table->setHorizontalHeaderLabels(m_labels.mid(0, n));
    m_table->setVerticalHeaderLabels(m_labels.mid(0, n));
    int64_t total = 0, correct = 0;
    for (int t = 0; t < n; ++t) {
        for (int p = 0; p < n; ++p) {
            const int64_t c = cell(t, p);
            total += c;
            if (t == p) correct += c;
            auto* item = m_table->item(t, p);
            if (!item) {
                item = new QTableWidgetItem;
                item->setTextAlignment(Qt::AlignCenter);
                m_table->setItem(t, p, item);
            }
            item->setText(c ? QString::number(c) : QString());
            item->setToolTip(tr("target %1, predicted %2: %3").arg(m_labels[t], m_labels[p]).arg(c));
        }
    }
    paintCells();
    m_caption->setText(tr("Epoch %1 validation: %2 of %3 %4 right (%5%). Rows: target · "
                          "columns: predicted.")
                           .arg(m.epoch + 1)
                           .arg(correct)
                           .arg(total)
                           .arg(m_rowsPerSample > 1 ? tr("positions") : tr("samples"))
                           .arg(total ? 100.0 * double(correct) / double(total) : 0.0, 0, 'f', 1));
    if (sameShape && keepRow >= 0 && keepColumn >= 0) showCell(keepRow, keepColumn);
    else m_samples->clear();
}

void ConfusionView::paintCells() {
    const QPalette pal = palette();
    const QColor base = pal.color(QPalette::Base), text = pal.color(QPalette::Text);
    const QColor right(70, 170, 110), wrong(220, 90, 70);
    const int n = int(m_classes);
    for (int t = 0; t < n; ++t) {
        int64_t rowSum = 0;
        for (int p = 0; p < n; ++p) rowSum += cell(t, p);
        for (int p = 0; p < n; ++p) {
            QTableWidgetItem* item = m_table->item(t, p);
            if (!item) continue;
            const double share = rowSum ? double(cell(t, p)) / double(rowSum) : 0.0;
            // The diagonal in green, confusions in red, by the share of the target's samples.
            const double strength = cell(t, p) ? 0.15 + 0.85 * share : 0.0;
            item->setBackground(mixColor(base, t == p ? right : wrong, strength));
            item->setForeground(strength > 0.6 ? QColor(Qt::white) : text);
        }
    }
}

void ConfusionView::changeEvent(QEvent* e) {
    QWidget::changeEvent(e);
    if (e->type() == QEvent::PaletteChange) paintCells();
}

int64_t ConfusionView::cell(int target, int prediction) const {
    if (target < 0 || prediction < 0 || target >= m_classes || prediction >= m_classes) return 0;
    return m_confusion[size_t(int64_t(target) * m_classes + prediction)];
}

std::vector<std::pair<int64_t, int64_t>> ConfusionView::cellSamples(int target,
                                                                   int prediction) const {
    std::vector<std::pair<int64_t, int64_t>> out;
    const size_t rows = std::min(m_predictions.size(), m_targets.size());
    for (size_t r = 0; r < rows; ++r) {
        if (m_targets[r] == target && m_predictions[r] == prediction) {
            out.push_back({int64_t(r) / m_rowsPerSample, int64_t(r) % m_rowsPerSample});
        }
    }
    return out;
}

void ConfusionView::showCell(int target, int prediction) {
    m_samples->clear();
    if (target < 0 || prediction < 0 || target >= m_classes || prediction >= m_classes) return;
    const auto samples = cellSamples(target, prediction);
    m_listCaption->setText(
        tr("%1 validation %2 of class %3 predicted as %4%5")
            .arg(samples.size())
            .arg(m_rowsPerSample > 1 ? tr("positions") : tr("samples"))
            .arg(m_labels.value(target), m_labels.value(prediction))
            .arg(int(samples.size()) > kMaxListed ? tr(" (first %1 listed)").arg(kMaxListed)
                                                  : QString()));
    const bool pictures = m_thumbnail && m_rowsPerSample == 1;
    m_samples->setViewMode(pictures ? QListView::IconMode : QListView::ListMode);
    m_samples->setGridSize(pictures ? QSize(64, 56) : QSize());
    int listed = 0;
    for (const auto& [sample, position] : samples) {
        if (listed >= kMaxListed) break;
        auto* item = new QListWidgetItem(m_rowsPerSample > 1
                                             ? tr("#%1 @%2").arg(sample).arg(position)
                                             : tr("#%1").arg(sample));
        item->setData(Qt::UserRole, qlonglong(sample));
        item->setToolTip(tr("validation sample %1").arg(sample));
        if (pictures && listed < kMaxThumbnails) {
            const QImage image = m_thumbnail(sample);
            if (!image.isNull()) {
                item->setIcon(QPixmap::fromImage(
                    image.scaled(36, 36, Qt::KeepAspectRatio, Qt::FastTransformation)));
            }
        }
        m_samples->addItem(item);
        ++listed;
    }
    {
        QSignalBlocker block(m_table);
        m_table->setCurrentCell(target, prediction);
    }
}

Result<void> ConfusionView::exportPng(const QString& path) {
    if (!grab().save(path, "PNG")) return fail(path.toStdString() + " cannot be written");
    return {};
}

}  // namespace strata::ui

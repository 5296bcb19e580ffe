#include "ui/training/attention_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>
#include <QEvent>
#include <cmath>
#include <qcustomplot.h>

#include "ui/training/plot_style.h"

namespace strata::ui {

AttentionView::AttentionView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* row = new QHBoxLayout;
    m_layer = new QComboBox;
    m_layer->setToolTip(tr("The attention layer whose maps are shown"));
    m_head = new QComboBox;
    m_head->setToolTip(tr("One head, or all of them side by side"));
    m_caption = new QLabel(tr("Attention maps appear once training runs a Transformer."));
    m_caption->setWordWrap(true);
    row->addWidget(new QLabel(tr("Layer")));
    row->addWidget(m_layer, 1);
    row->addWidget(new QLabel(tr("Head")));
    row->addWidget(m_head);
    layout->addLayout(row);
    layout->addWidget(m_caption);
    m_plot = new QCustomPlot;
    m_plot->setMinimumSize(200, 150);
    m_plot->plotLayout()->clear();
    m_plot->setBackground(palette().color(QPalette::Base));
    layout->addWidget(m_plot, 1);
    connect(m_layer, &QComboBox::currentIndexChanged, this, [this] {
        const AttentionSnapshot* s = current();
        const QString keep = m_head->currentText();
        QSignalBlocker block(m_head);
        m_head->clear();
        m_head->addItem(tr("all"));
        for (int64_t h = 0; s && h < s->heads; ++h) m_head->addItem(QString::number(h + 1));
        const int i = m_head->findText(keep);
        m_head->setCurrentIndex(i >= 0 ? i : 0);
        rebuild();
    });
    connect(m_head, &QComboBox::currentIndexChanged, this, [this] { rebuild(); });
}

void AttentionView::setTokens(const QStringList& tokens) {
    m_tokens = tokens;
    m_builtFor.clear();  // the axes carry the labels
    rebuild();
}

void AttentionView::resizeEvent(QResizeEvent* e) {
    QWidget::resizeEvent(e);
    m_builtFor.clear();  // label spacing follows the size
    rebuild();
}

void AttentionView::changeEvent(QEvent* e) {
    QWidget::changeEvent(e);
    if (e->type() == QEvent::PaletteChange) {
        m_plot->setBackground(palette().color(QPalette::Base));
        m_builtFor.clear();
        rebuild();
    }
}

void AttentionView::labelAxis(QCPAxis* axis, int64_t count, double pixels) {
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    const bool tokens = m_tokens.size() == count;
    // Every position while they fit; beyond that every k-th so the labels stay legible.
    const double spacing = axis->orientation() == Qt::Vertical ? 11.0 : 16.0;  // pixels a label
    const int64_t every =
        std::max<int64_t>(1, int64_t(std::ceil(double(count) * spacing / std::max(pixels, 1.0))));
    for (int64_t i = 0; i < count; i += every) {
        ticker->addTick(double(i), tokens ? m_tokens[int(i)] : QString::number(i));
    }
    axis->setTicker(ticker);
    axis->setSubTicks(false);
    axis->setTickLabelFont(QFont(font().family(), 7));
    axis->grid()->setVisible(false);
}

namespace {
// One entry per position, empty where the axis leaves the label out for lack of room.
QStringList axisLabels(QCPAxis* axis, int count) {
    QStringList out;
    for (int i = 0; i < count; ++i) out << QString();
    auto ticker = axis->ticker().dynamicCast<QCPAxisTickerText>();
    if (!ticker) return out;
    for (auto it = ticker->ticks().constBegin(); it != ticker->ticks().constEnd(); ++it) {
        const int i = int(std::lround(it.key()));
        if (i >= 0 && i < count) out[i] = it.value();
    }
    return out;
}
}  // namespace

QStringList AttentionView::keyLabels(int heatmap) const {
    if (heatmap < 0 || heatmap >= m_plot->axisRectCount()) return {};
    auto* map = qobject_cast<QCPColorMap*>(m_plot->plottable(heatmap));
    if (!map) return {};
    return axisLabels(m_plot->axisRect(heatmap)->axis(QCPAxis::atBottom), map->data()->keySize());
}

QStringList AttentionView::queryLabels(int heatmap) const {
    if (heatmap < 0 || heatmap >= m_plot->axisRectCount()) return {};
    auto* map = qobject_cast<QCPColorMap*>(m_plot->plottable(heatmap));
    if (!map) return {};
    return axisLabels(m_plot->axisRect(heatmap)->axis(QCPAxis::atLeft), map->data()->valueSize());
}

Result<void> AttentionView::exportPng(const QString& path) {
    if (!m_plot->savePng(path, std::max(600, m_plot->width()), std::max(400, m_plot->height()))) {
        return fail(path.toStdString() + " cannot be written");
    }
    return {};
}

void AttentionView::clear() {
    m_snapshots.clear();
    m_tokens.clear();
    m_layer->clear();
    m_caption->setText(tr("Attention maps appear once training runs a Transformer."));
    rebuild();
}

const AttentionSnapshot* AttentionView::current() const {
    const QString name = m_layer->currentText();
    for (const AttentionSnapshot& s : m_snapshots) {
        if (QString::fromStdString(s.node) == name) return &s;
    }
    return nullptr;
}

void AttentionView::setSnapshots(const std::vector<AttentionSnapshot>& snapshots) {
    m_snapshots = snapshots;
    QStringList names;
    for (const AttentionSnapshot& s : m_snapshots) names << QString::fromStdString(s.node);
    QStringList have;
    for (int i = 0; i < m_layer->count(); ++i) have << m_layer->itemText(i);
    if (names != have) {
        const QString keep = m_layer->currentText();
        {
            QSignalBlocker block(m_layer);
            m_layer->clear();
            m_layer->addItems(names);
            const int i = m_layer->findText(keep);
            m_layer->setCurrentIndex(i >= 0 ? i : 0);
        }
        emit m_layer->currentIndexChanged(m_layer->currentIndex());  // refills the heads
        return;
    }
    rebuild();
}

int AttentionView::heatmapCount() const {
    int n = 0;
    for (int i = 0; i < m_plot->plottableCount(); ++i) {
        if (qobject_cast<QCPColorMap*>(m_plot->plottable(i))) ++n;
    }
    return n;
}

void AttentionView::rebuild() {
    const AttentionSnapshot* s = current();
    if (!s || s->heads <= 0 || s->queries <= 0 || s->keys <= 0 ||
        int64_t(s->probabilities.size()) != s->heads * s->queries * s->keys) {
        m_plot->clearPlottables();
        m_plot->plotLayout()->clear();
        m_builtFor.clear();
        m_plot->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    const int chosen = m_head->currentIndex();  // 0: all heads
    std::vector<int64_t> heads;
    if (chosen <= 0) {
        for (int64_t h = 0; h < s->heads; ++h) heads.push_back(h);
    } else {
        heads.push_back(std::min<int64_t>(chosen - 1, s->heads - 1));
    }
    m_caption->setText(tr("%1 at step %2: rows are queries, columns keys")
                           .arg(QString::fromStdString(s->node))
                           .arg(s->step));
    const QString shape = QString("%1/%2/%3x%4/%5")
                              .arg(QString::fromStdString(s->node))
                              .arg(chosen)
                              .arg(s->queries)
                              .arg(s->keys)
                              .arg(s->heads);
    if (shape != m_builtFor) {
        m_plot->clearPlottables();
        m_plot->plotLayout()->clear();
        m_plot->setBackground(palette().color(QPalette::Base));
        // As many columns as make the maps largest (closest to square) in the space there is.
        int columns = 1;
        double best = 0;
        for (int c = 1; c <= int(heads.size()); ++c) {
            const int r = int((heads.size() + size_t(c) - 1) / size_t(c));
            const double side = std::min(m_plot->width() / double(c), m_plot->height() / double(r));
            if (side > best) {
                best = side;
                columns = c;
            }
        }
        for (size_t i = 0; i < heads.size(); ++i) {
            auto* rect = new QCPAxisRect(m_plot);
            m_plot->plotLayout()->addElement(int(i) / columns, int(i) % columns, rect);
            QCPAxis* x = rect->axis(QCPAxis::atBottom);
            QCPAxis* y = rect->axis(QCPAxis::atLeft);
            y->setRangeReversed(true);  // query 0 on top, like a matrix
            x->setLabel(tr("head %1").arg(heads[i] + 1));
            x->setRange(-0.5, double(s->keys) - 0.5);
            y->setRange(-0.5, double(s->queries) - 0.5);
            styleAxis(x, palette());
            styleAxis(y, palette());
            rect->setBackground(palette().color(QPalette::Base));
            // What each map gets of the plot, less its axis labels.
            const int rows = int((heads.size() + size_t(columns) - 1) / size_t(columns));
            labelAxis(x, s->keys, m_plot->width() / double(columns) - 40);
            labelAxis(y, s->queries, m_plot->height() / double(rows) - 36);
            auto* map = new QCPColorMap(x, y);
            map->setGradient(QCPColorGradient::gpThermal);
            map->setInterpolate(false);
            map->setDataRange(QCPRange(0, 1));
            map->data()->setSize(int(s->keys), int(s->queries));
            map->data()->setRange(QCPRange(0, double(s->keys) - 1),
                                  QCPRange(0, double(s->queries) - 1));
        }
        m_builtFor = shape;
    }
    int i = 0;
    for (int p = 0; p < m_plot->plottableCount(); ++p) {
        auto* map = qobject_cast<QCPColorMap*>(m_plot->plottable(p));
        if (!map) continue;
        const int64_t h = heads[size_t(i++)];
        const float* probs = s->probabilities.data() + h * s->queries * s->keys;  // (T, S)
        for (int64_t q = 0; q < s->queries; ++q) {
            for (int64_t k = 0; k < s->keys; ++k) {
                map->data()->setCell(int(k), int(q), probs[q * s->keys + k]);
            }
        }
    }
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace strata::ui

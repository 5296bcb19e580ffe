#include "ui/training/loss_plot.h"

#include <QEvent>
#include <QFile>
#include <QMouseEvent>
#include <QPainter>
#include <QTextStream>
#include <QToolTip>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <qcustomplot.h>

#include "ui/training/plot_style.h"

namespace strata::ui {

namespace {

const QColor kRaw(90, 150, 235, 80);
const QColor kEma(80, 160, 255);
const QColor kVal(255, 150, 60);
const QColor kTrainAcc(90, 200, 120);
const QColor kValAcc(235, 110, 200);
const QColor kLearningRate(200, 190, 90);
const QColor kEarlier(170, 175, 185, 70);
const QColor kBest(255, 215, 80);

QString number(double v) {
    return std::isfinite(v) ? QString::number(v, 'g', 6) : QString();
}

QCPGraph* makeGraph(QCustomPlot* plot, const QString& name, const QPen& pen) {
    QCPGraph* g = plot->addGraph();
    g->setName(name);
    g->setPen(pen);
    return g;
}

}  // namespace

LossPlot::LossPlot(QWidget* parent)
    : QWidget(parent),
      m_plot(new QCustomPlot(this)),
      m_accuracy(new QCustomPlot(this)),
      m_lr(new QCustomPlot(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot);
    // Placed elsewhere by the dashboard; hidden until then.
    m_accuracy->hide();
    m_lr->hide();
    for (QCustomPlot* p : {m_plot, m_accuracy, m_lr}) {
        p->setMinimumSize(200, 120);
        p->setNoAntialiasingOnDrag(true);
        p->setMouseTracking(true);
        p->installEventFilter(this);
        p->legend->setVisible(true);
        p->legend->setFont(QFont(font().family(), 8));
        p->legend->setRowSpacing(-2);
        p->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
        // Earlier runs are drawn beneath the current one.
        p->addLayer("earlier", p->layer("main"), QCustomPlot::limBelow);
        // Markers and hover labels above every curve.
        p->addLayer("marks", p->layer("main"), QCustomPlot::limAbove);
    }

    m_plot->xAxis->setLabel(tr("step"));
    m_plot->yAxis->setLabel(tr("loss"));
    makeGraph(m_plot, tr("loss"), QPen(kRaw, 1));
    makeGraph(m_plot, tr("loss (smoothed)"), QPen(kEma, 2));
    QCPGraph* val = makeGraph(m_plot, tr("validation loss"), QPen(kVal, 2));
    val->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(kVal, 1.5),
                                         QBrush(kVal), 6));

    m_accuracy->xAxis->setLabel(tr("epoch"));
    m_accuracy->yAxis->setLabel(tr("accuracy (%)"));
    m_accuracy->yAxis->setRange(0, 100);
    m_accuracy->xAxis->setRange(0.5, 1.5);
    QSharedPointer<QCPAxisTickerFixed> epochs(new QCPAxisTickerFixed);
    epochs->setTickStep(1);
    epochs->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    m_accuracy->xAxis->setTicker(epochs);
    m_accuracy->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
    QCPGraph* acc = makeGraph(m_accuracy, tr("train accuracy"), QPen(kTrainAcc, 2));
    acc->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssSquare, 5));
    QCPGraph* valAcc = makeGraph(m_accuracy, tr("validation accuracy"), QPen(kValAcc, 2));
    valAcc->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, 7));

    m_lr->xAxis->setLabel(tr("step"));
    m_lr->yAxis->setLabel(tr("learning rate"));
    makeGraph(m_lr, tr("learning rate"), QPen(kLearningRate, 2));
    m_lr->legend->setVisible(false);

    m_bestMarker = new QCPItemTracer(m_plot);
    m_bestMarker->setStyle(QCPItemTracer::tsCircle);
    m_bestMarker->setSize(13);
    m_bestMarker->setPen(QPen(kBest, 2));
    m_bestMarker->setBrush(Qt::NoBrush);
    m_bestMarker->setVisible(false);
    m_bestText = new QCPItemText(m_plot);
    m_bestText->position->setParentAnchor(m_bestMarker->position);
    m_bestText->position->setCoords(0, -12);  // pixels above the marker
    m_bestText->setPositionAlignment(Qt::AlignBottom | Qt::AlignHCenter);
    m_bestText->setColor(kBest);
    m_bestText->setFont(QFont(font().family(), 8, QFont::Bold));
    m_bestText->setVisible(false);
    m_bestMarker->setLayer("marks");
    m_bestText->setLayer("marks");

    setUpHover(m_plot, tr("step"));
    setUpHover(m_accuracy, tr("epoch"));
    setUpHover(m_lr, tr("step"));
    applyPalette();
}

QCPGraph* LossPlot::rawGraph() const { return m_plot->graph(0); }
QCPGraph* LossPlot::emaGraph() const { return m_plot->graph(1); }
QCPGraph* LossPlot::valGraph() const { return m_plot->graph(2); }
QCPGraph* LossPlot::trainAccuracyGraph() const { return m_accuracy->graph(0); }
QCPGraph* LossPlot::valAccuracyGraph() const { return m_accuracy->graph(1); }
QCPGraph* LossPlot::learningRateGraph() const { return m_lr->graph(0); }

int LossPlot::rawPointCount() const {
    return rawGraph()->data()->size();
}

void LossPlot::setUpHover(QCustomPlot* plot, const QString& keyName) {
    Hover h;
    h.keyName = keyName;
    h.tracer = new QCPItemTracer(plot);
    h.tracer->setStyle(QCPItemTracer::tsCircle);
    h.tracer->setSize(8);
    h.tracer->setInterpolating(false);
    h.tracer->setVisible(false);
    h.tracer->setSelectable(false);
    h.label = new QCPItemText(plot);
    h.label->position->setParentAnchor(h.tracer->position);
    h.label->position->setCoords(8, -8);
    h.label->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
    h.label->setPadding(QMargins(4, 2, 4, 2));
    h.label->setFont(QFont(font().family(), 8));
    h.label->setVisible(false);
    h.label->setSelectable(false);
    h.tracer->setLayer("marks");
    h.label->setLayer("marks");
    m_hover[plot] = h;
}

void LossPlot::applyPalette() {
    const QPalette p = palette();
    for (QCustomPlot* plot : {m_plot, m_accuracy, m_lr}) {
        stylePlot(plot, p);
        Hover& h = m_hover[plot];
        if (!h.tracer) continue;
        h.tracer->setPen(QPen(p.color(QPalette::Text), 1.5));
        h.label->setColor(p.color(QPalette::Text));
        QColor bg = p.color(QPalette::ToolTipBase);
        bg.setAlpha(230);
        h.label->setBrush(bg);
        h.label->setPen(QPen(mixColor(p.color(QPalette::Base), p.color(QPalette::Text), 0.4)));
    }
    // The best-epoch label stays legible over the curves.
    QColor under = p.color(QPalette::Base);
    under.setAlpha(210);
    m_bestText->setBrush(under);
    m_bestText->setPadding(QMargins(3, 1, 3, 1));
    for (QCustomPlot* plot : {m_plot, m_accuracy, m_lr}) plot->replot(QCustomPlot::rpQueuedReplot);
}

void LossPlot::changeEvent(QEvent* e) {
    QWidget::changeEvent(e);
    if (e->type() == QEvent::PaletteChange) applyPalette();
}

bool LossPlot::eventFilter(QObject* watched, QEvent* e) {
    auto* plot = qobject_cast<QCustomPlot*>(watched);
    if (plot && m_hover.count(plot)) {
        if (e->type() == QEvent::MouseMove) {
            const QPoint pos = static_cast<QMouseEvent*>(e)->position().toPoint();
            const QString text = hoverAt(plot, pos);
            if (text.isEmpty()) QToolTip::hideText();
        } else if (e->type() == QEvent::Leave) {
            hideHover();
            plot->replot(QCustomPlot::rpQueuedReplot);
        }
    }
    return QWidget::eventFilter(watched, e);
}

void LossPlot::hideHover() {
    for (auto& [plot, h] : m_hover) {
        h.tracer->setVisible(false);
        h.label->setVisible(false);
    }
    m_hoverText.clear();
}

QString LossPlot::hoverAt(QCustomPlot* plot, const QPoint& pixel) {
    auto found = m_hover.find(plot);
    if (found == m_hover.end()) return {};
    Hover& h = found->second;
    QCPGraph* bestGraph = nullptr;
    double bestKey = 0, bestValue = 0, bestDistance = 12.0;  // pixels
    for (int i = 0; i < plot->graphCount(); ++i) {
        QCPGraph* g = plot->graph(i);
        if (!g->visible() || g->data()->isEmpty()) continue;
        const double key = g->keyAxis()->pixelToCoord(pixel.x());
        auto it = g->data()->findBegin(key, false);
        // The neighbours in key order; enough for curves whose points are pixels apart.
        auto from = it - std::min<int>(3, int(it - g->data()->constBegin()));
        for (auto p = from; p != g->data()->constEnd() && p - from < 7; ++p) {
            if (!std::isfinite(p->value)) continue;
            const QPointF at = g->coordsToPixels(p->key, p->value);
            const double d = std::hypot(at.x() - pixel.x(), at.y() - pixel.y());
            // Current-run curves win ties over the faint earlier ones drawn beneath them.
            if (d < bestDistance || (d == bestDistance && !bestGraph)) {
                bestDistance = d;
                bestGraph = g;
                bestKey = p->key;
                bestValue = p->value;
            }
        }
    }
    if (!bestGraph) {
        const bool was = h.tracer->visible();
        h.tracer->setVisible(false);
        h.label->setVisible(false);
        m_hoverText.clear();
        if (was) plot->replot(QCustomPlot::rpQueuedReplot);
        return {};
    }
    const QString value = plot == m_accuracy ? QString::number(bestValue, 'f', 1) + "%"
                                             : QString::number(bestValue, 'g', 4);
    m_hoverText = QString("%1 · %2 %3: %4")
                      .arg(bestGraph->name(), h.keyName)
                      .arg(qint64(std::llround(bestKey)))
                      .arg(value);
    h.tracer->setGraph(nullptr);
    h.tracer->position->setAxes(bestGraph->keyAxis(), bestGraph->valueAxis());
    h.tracer->position->setCoords(bestKey, bestValue);
    h.tracer->setVisible(true);
    h.label->setText(m_hoverText);
    // Keep the label inside the plot: to the left of the point on the right half.
    const bool right = pixel.x() > plot->axisRect()->center().x();
    h.label->position->setCoords(right ? -8 : 8, -8);
    h.label->setPositionAlignment((right ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignBottom);
    h.label->setVisible(true);
    plot->replot(QCustomPlot::rpQueuedReplot);
    return m_hoverText;
}

void LossPlot::clear() {
    for (Run& r : m_runs) {
        for (QCPGraph* g : r.graphs) g->parentPlot()->removeGraph(g);
    }
    m_runs.clear();
    m_steps.clear();  // nothing to keep
    startRun();
}

void LossPlot::startRun() {
    hideHover();
    if (!m_steps.isEmpty()) {
        // Keep this run faintly: its smoothed and validation loss, its accuracy and rate.
        Run run;
        const int number = int(m_runs.size()) + 1;
        auto copy = [&](QCustomPlot* plot, QCPGraph* from, const QString& what) {
            if (from->data()->isEmpty()) return;
            QCPGraph* g = plot->addGraph();
            g->setName(tr("earlier run %1 %2").arg(number).arg(what));
            g->setPen(QPen(kEarlier, from == valGraph() ? 1.5 : 1.2,
                           from == valGraph() || from == valAccuracyGraph() ? Qt::DashLine
                                                                            : Qt::SolidLine));
            g->data()->set(*from->data());
            g->removeFromLegend();
            g->setLayer("earlier");
            run.graphs.push_back(g);
        };
        copy(m_plot, emaGraph(), tr("loss (smoothed)"));
        copy(m_plot, valGraph(), tr("validation loss"));
        copy(m_accuracy, valAccuracyGraph(), tr("validation accuracy"));
        copy(m_lr, learningRateGraph(), tr("learning rate"));
        m_runs.push_back(std::move(run));
        while (int(m_runs.size()) > kEarlierRuns) {
            for (QCPGraph* g : m_runs.front().graphs) g->parentPlot()->removeGraph(g);
            m_runs.erase(m_runs.begin());
        }
    }
    for (QCustomPlot* plot : {m_plot, m_accuracy, m_lr}) {
        for (int i = 0; i < plot->graphCount(); ++i) {
            bool earlier = false;
            for (const Run& r : m_runs) {
                earlier |= std::find(r.graphs.begin(), r.graphs.end(), plot->graph(i)) !=
                           r.graphs.end();
            }
            if (!earlier) plot->graph(i)->data()->clear();
        }
    }
    m_steps.clear();
    m_emaValues.clear();
    m_epochs.clear();
    m_ranges.clear();
    m_haveEma = false;
    m_best = -1;
    updateBest();
    refresh();
}

void LossPlot::addSteps(const QVector<StepMetrics>& steps) {
    const double a = m_smoothing;
    for (const StepMetrics& m : steps) {
        m_steps.push_back(m);
        learningRateGraph()->addData(double(m.step), m.learningRate);
        // A non-finite loss would wreck the axis ranges; the dashboard reports it instead.
        if (!std::isfinite(m.loss)) {
            m_emaValues.push_back(kNoValue);
            continue;
        }
        rawGraph()->addData(double(m.step), m.loss);
        m_ema = m_haveEma ? a * m_ema + (1 - a) * m.loss : m.loss;
        m_haveEma = true;
        m_emaValues.push_back(m_ema);
        emaGraph()->addData(double(m.step), m_ema);
    }
    refresh();
}

void LossPlot::addEpoch(const EpochMetrics& in) {
    EpochMetrics m = in;
    m.confusion.clear();
    m.predictions.clear();
    m.targets.clear();
    m_epochs.push_back(m);
    const double x = double(m.step);
    const double epoch = double(m.epoch + 1);
    if (std::isfinite(m.valLoss)) valGraph()->addData(x, m.valLoss);
    if (std::isfinite(m.trainAccuracy)) trainAccuracyGraph()->addData(epoch, 100 * m.trainAccuracy);
    if (std::isfinite(m.valAccuracy)) valAccuracyGraph()->addData(epoch, 100 * m.valAccuracy);
    updateBest();
    refresh();
}

void LossPlot::updateBest() {
    m_best = -1;
    double best = 0;
    bool fromValidation = false;
    for (size_t i = 0; i < m_epochs.size(); ++i) {
        const EpochMetrics& e = m_epochs[i];
        const double v = std::isfinite(e.valLoss) ? e.valLoss : e.trainLoss;
        if (!std::isfinite(v)) continue;
        if (m_best < 0 || v < best) {
            best = v;
            m_best = int(i);
            fromValidation = std::isfinite(e.valLoss);
        }
    }
    m_bestMarker->setVisible(m_best >= 0);
    m_bestText->setVisible(m_best >= 0);
    if (m_best < 0) return;
    m_bestMarker->setGraph(nullptr);
    m_bestMarker->position->setCoords(double(m_epochs[size_t(m_best)].step), best);
    m_bestText->setText(tr("best: epoch %1 (%2 %3)")
                            .arg(m_best + 1)
                            .arg(fromValidation ? tr("val") : tr("train"))
                            .arg(best, 0, 'g', 4));
}

QString LossPlot::bestLabel() const {
    return m_bestText->visible() ? m_bestText->text() : QString();
}

void LossPlot::setSmoothing(double alpha) {
    m_smoothing = std::clamp(alpha, 0.0, 0.999);
    recomputeEma();
    refresh();
}

void LossPlot::recomputeEma() {
    m_ranges.erase(emaGraph());
    emaGraph()->data()->clear();
    m_haveEma = false;
    for (int i = 0; i < m_steps.size(); ++i) {
        const StepMetrics& s = m_steps[i];
        if (!std::isfinite(s.loss)) {
            m_emaValues[i] = kNoValue;
            continue;
        }
        m_ema = m_haveEma ? m_smoothing * m_ema + (1 - m_smoothing) * s.loss : s.loss;
        m_haveEma = true;
        m_emaValues[i] = m_ema;
        emaGraph()->addData(double(s.step), m_ema);
    }
}

void LossPlot::setLogScale(bool on) {
    m_log = on;
    for (QCPAxis* axis : {m_plot->yAxis, m_lr->yAxis}) {
        if (on) {
            axis->setScaleType(QCPAxis::stLogarithmic);
            axis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
        } else {
            axis->setScaleType(QCPAxis::stLinear);
            axis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
        }
    }
    refresh();
}

const LossPlot::Ranges& LossPlot::rangesOf(QCPGraph* g) {
    Ranges& r = m_ranges[g];
    const auto data = g->data();
    if (data->size() < r.count) r = Ranges{};
    for (auto it = data->constBegin() + r.count; it != data->constEnd(); ++it) {
        if (!std::isfinite(it->key) || !std::isfinite(it->value)) continue;
        r.keyLo = r.any ? std::min(r.keyLo, it->key) : it->key;
        r.keyHi = r.any ? std::max(r.keyHi, it->key) : it->key;
        r.lo = r.any ? std::min(r.lo, it->value) : it->value;
        r.hi = r.any ? std::max(r.hi, it->value) : it->value;
        r.any = true;
        if (it->value > 0) {
            r.posLo = r.anyPositive ? std::min(r.posLo, it->value) : it->value;
            r.anyPositive = true;
        }
    }
    r.count = data->size();
    return r;
}

void LossPlot::refresh() {
    // Keys and values over every curve drawn, earlier runs included, so they compare.
    auto fit = [this](QCustomPlot* plot, bool fromZero) {
        double keyLo = 0, keyHi = 0, lo = 0, hi = 0;
        bool haveKeys = false, haveValues = false;
        for (int i = 0; i < plot->graphCount(); ++i) {
            const Ranges& r = rangesOf(plot->graph(i));
            if (!r.any) continue;
            keyLo = haveKeys ? std::min(keyLo, r.keyLo) : r.keyLo;
            keyHi = haveKeys ? std::max(keyHi, r.keyHi) : r.keyHi;
            haveKeys = true;
            // Log axes need positive values: only those count for the range.
            if (m_log && !r.anyPositive) continue;
            const double vLo = m_log ? r.posLo : r.lo;
            lo = haveValues ? std::min(lo, vLo) : vLo;
            hi = haveValues ? std::max(hi, r.hi) : r.hi;
            haveValues = true;
        }
        if (haveKeys) plot->xAxis->setRange(keyLo, std::max(keyHi, keyLo + 1));
        if (haveValues) {
            if (m_log) {
                lo = std::max(lo, 1e-9);
                plot->yAxis->setRange(lo * 0.8, std::max(hi, lo) * 1.25);
            } else {
                const double pad = std::max(1e-9, (hi - lo) * 0.08);
                plot->yAxis->setRange(fromZero ? std::min(0.0, lo) : lo - pad, hi + pad);
            }
        }
    };
    fit(m_plot, true);
    fit(m_lr, true);
    // The best-epoch label reads towards the inside of the plot.
    const bool rightHalf = m_bestMarker->position->key() > m_plot->xAxis->range().center();
    m_bestText->setPositionAlignment((rightHalf ? Qt::AlignRight : Qt::AlignLeft) |
                                     Qt::AlignBottom);
    m_bestText->position->setCoords(rightHalf ? -4 : 4, -10);
    bool ok = false;
    QCPRange epochs = trainAccuracyGraph()->getKeyRange(ok);
    double lastEpoch = ok ? epochs.upper : 1;
    for (const Run& r : m_runs) {
        for (QCPGraph* g : r.graphs) {
            if (g->parentPlot() != m_accuracy) continue;
            QCPRange k = g->getKeyRange(ok);
            if (ok) lastEpoch = std::max(lastEpoch, k.upper);
        }
    }
    m_accuracy->xAxis->setRange(0.5, lastEpoch + 0.5);
    for (QCustomPlot* p : {m_plot, m_accuracy, m_lr}) p->replot(QCustomPlot::rpQueuedReplot);
}

Result<void> LossPlot::exportCsv(const QString& path) const {
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) {
        return fail(path.toStdString() + " cannot be written: " + file.errorString().toStdString());
    }
    QTextStream out(&file);
    out << "step,epoch,loss,loss_smoothed,learning_rate,grad_norm,samples_per_second,"
           "train_loss,train_accuracy,val_loss,val_accuracy\n";
    size_t e = 0;
    for (int i = 0; i < m_steps.size(); ++i) {
        const StepMetrics& s = m_steps[i];
        out << s.step << ',' << s.epoch + 1 << ',' << number(s.loss) << ','
            << number(m_emaValues[i]) << ',' << number(s.learningRate) << ','
            << number(s.gradNorm) << ',' << number(s.samplesPerSecond);
        while (e < m_epochs.size() && m_epochs[e].step < s.step) ++e;
        if (e < m_epochs.size() && m_epochs[e].step == s.step) {
            const EpochMetrics& m = m_epochs[e];
            out << ',' << number(m.trainLoss) << ',' << number(m.trainAccuracy) << ','
                << number(m.valLoss) << ',' << number(m.valAccuracy);
        } else {
            out << ",,,,";
        }
        out << '\n';
    }
    out.flush();
    if (file.error() != QFileDevice::NoError) {
        return fail(path.toStdString() + " cannot be written: " + file.errorString().toStdString());
    }
    return {};
}

QImage LossPlot::render(int width) {
    hideHover();
    const int lossHeight = width * 2 / 5, lowerHeight = width / 4;
    QImage image(width, lossHeight + lowerHeight, QImage::Format_ARGB32);
    image.fill(palette().color(QPalette::Base));
    QPainter painter(&image);
    painter.drawPixmap(0, 0, m_plot->toPixmap(width, lossHeight));
    painter.drawPixmap(0, lossHeight, m_accuracy->toPixmap(width / 2, lowerHeight));
    painter.drawPixmap(width / 2, lossHeight, m_lr->toPixmap(width - width / 2, lowerHeight));
    painter.end();
    refresh();
    return image;
}

Result<void> LossPlot::exportPng(const QString& path) {
    const QImage image = render();
    if (!image.save(path, "PNG")) return fail(path.toStdString() + " cannot be written");
    return {};
}

}  // namespace strata::ui

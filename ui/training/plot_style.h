#pragma once
// Plots follow the application palette (the studio is dark): background from Base, axes and
// labels from Text, grid lines a faint mix of the two. Applied at construction and again when
// the palette changes.
#include <QPalette>
#include <qcustomplot.h>

namespace strata::ui {

inline QColor mixColor(const QColor& a, const QColor& b, double t) {
    return QColor::fromRgbF(float(a.redF() * (1 - t) + b.redF() * t),
                            float(a.greenF() * (1 - t) + b.greenF() * t),
                            float(a.blueF() * (1 - t) + b.blueF() * t));
}

inline void styleAxis(QCPAxis* axis, const QPalette& p) {
    const QColor text = p.color(QPalette::Text), base = p.color(QPalette::Base);
    const QColor line = mixColor(base, text, 0.55);
    axis->setBasePen(QPen(line));
    axis->setTickPen(QPen(line));
    axis->setSubTickPen(QPen(line));
    axis->setTickLabelColor(text);
    axis->setLabelColor(text);
    axis->grid()->setPen(QPen(mixColor(base, text, 0.15), 0, Qt::DotLine));
    axis->grid()->setSubGridPen(Qt::NoPen);
    axis->grid()->setZeroLinePen(Qt::NoPen);
}

inline void stylePlot(QCustomPlot* plot, const QPalette& p) {
    plot->setBackground(p.color(QPalette::Base));
    for (QCPAxisRect* rect : plot->axisRects()) {
        rect->setBackground(p.color(QPalette::Base));
        for (QCPAxis* axis : rect->axes()) styleAxis(axis, p);
    }
    if (plot->legend) {
        plot->legend->setBrush(QColor(p.color(QPalette::Base).red(),
                                      p.color(QPalette::Base).green(),
                                      p.color(QPalette::Base).blue(), 200));
        plot->legend->setBorderPen(QPen(mixColor(p.color(QPalette::Base),
                                                 p.color(QPalette::Text), 0.3)));
        plot->legend->setTextColor(p.color(QPalette::Text));
    }
}

}  // namespace strata::ui

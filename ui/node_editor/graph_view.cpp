#include "ui/node_editor/graph_view.h"

#include <QKeyEvent>
#include <QMimeData>
#include <QScrollBar>
#include <QWheelEvent>
#include <QPainter>
#include <algorithm>

#include "ui/node_editor/graph_scene.h"

namespace strata::ui {

GraphView::GraphView(GraphScene* scene, QWidget* parent) : QGraphicsView(scene, parent), m_scene(scene) {
    setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
    setDragMode(QGraphicsView::RubberBandDrag);
    setRubberBandSelectionMode(Qt::IntersectsItemShape);
    setTransformationAnchor(QGraphicsView::NoAnchor);
    setResizeAnchor(QGraphicsView::AnchorViewCenter);
    setViewportUpdateMode(QGraphicsView::FullViewportUpdate);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    setAcceptDrops(true);
    setFrameShape(QFrame::NoFrame);
    // A large scene rect lets the canvas pan freely past the nodes.
    setSceneRect(-50000, -50000, 100000, 100000);
}

void GraphView::zoomAt(QPoint viewPos, double factor) {
    const double z = zoom();
    factor = std::clamp(z * factor, 0.15, 4.0) / z;
    QPointF before = mapToScene(viewPos);
    scale(factor, factor);
    QPointF after = mapToScene(viewPos);
    QPointF d = after - before;
    translate(d.x(), d.y());
}

void GraphView::wheelEvent(QWheelEvent* e) {
    const double steps = e->angleDelta().y() / 120.0;
    zoomAt(e->position().toPoint(), std::pow(1.15, steps));
    e->accept();
}

void GraphView::fitGraph() {
    QRectF bounds = m_scene->itemsBoundingRect();
    if (bounds.isEmpty()) {
        resetTransform();
        centerOn(0, 0);
        return;
    }
    bounds.adjust(-40, -40, 40, 40);
    fitInView(bounds, Qt::KeepAspectRatio);
    // Small graphs stay at a readable size instead of filling the window; long ones stay
    // readable too and show their beginning, where the data enters.
    const double target = std::clamp(zoom(), 0.5, 1.25);
    if (target != zoom()) {
        const double f = target / zoom();
        scale(f, f);
    }
    const double visibleWidth = viewport()->width() / zoom();
    QPointF centre = bounds.center();
    if (bounds.width() > visibleWidth) centre.setX(bounds.left() + visibleWidth / 2);
    centerOn(centre);
}

void GraphView::centreOn(QPointF scenePos) { centerOn(scenePos); }

void GraphView::mousePressEvent(QMouseEvent* e) {
    if (e->button() == Qt::MiddleButton || (e->button() == Qt::LeftButton && m_spaceHeld)) {
        m_panning = true;
        m_panLast = e->position().toPoint();
        viewport()->setCursor(Qt::ClosedHandCursor);
        e->accept();
        return;
    }
    QGraphicsView::mousePressEvent(e);
}

void GraphView::mouseMoveEvent(QMouseEvent* e) {
    if (m_panning) {
        QPoint p = e->position().toPoint();
        QPointF d = mapToScene(p) - mapToScene(m_panLast);
        m_panLast = p;
        translate(d.x(), d.y());
        e->accept();
        return;
    }
    QGraphicsView::mouseMoveEvent(e);
}

void GraphView::mouseReleaseEvent(QMouseEvent* e) {
    if (m_panning) {
        m_panning = false;
        viewport()->setCursor(m_spaceHeld ? Qt::OpenHandCursor : Qt::ArrowCursor);
        e->accept();
        return;
    }
    QGraphicsView::mouseReleaseEvent(e);
}

void GraphView::keyPressEvent(QKeyEvent* e) {
    if (e->key() == Qt::Key_Space && !e->isAutoRepeat()) {
        m_spaceHeld = true;
        viewport()->setCursor(Qt::OpenHandCursor);
        e->accept();
        return;
    }
    QGraphicsView::keyPressEvent(e);
}

void GraphView::keyReleaseEvent(QKeyEvent* e) {
    if (e->key() == Qt::Key_Space && !e->isAutoRepeat()) {
        m_spaceHeld = false;
        viewport()->setCursor(Qt::ArrowCursor);
        e->accept();
        return;
    }
    QGraphicsView::keyReleaseEvent(e);
}

void GraphView::dragEnterEvent(QDragEnterEvent* e) {
    if (e->mimeData()->hasFormat(kLayerMime)) {
        e->acceptProposedAction();
    } else {
        QGraphicsView::dragEnterEvent(e);
    }
}

void GraphView::dragMoveEvent(QDragMoveEvent* e) {
    if (e->mimeData()->hasFormat(kLayerMime)) {
        e->acceptProposedAction();
    } else {
        QGraphicsView::dragMoveEvent(e);
    }
}

void GraphView::dropEvent(QDropEvent* e) {
    if (!e->mimeData()->hasFormat(kLayerMime)) {
        QGraphicsView::dropEvent(e);
        return;
    }
    std::string type = e->mimeData()->data(kLayerMime).toStdString();
    QPointF at = mapToScene(e->position().toPoint());
    if (m_scene->addLayerCentredAt(type, at)) {
        e->acceptProposedAction();
        setFocus();
    } else {
        e->ignore();
    }
}

void GraphView::drawForeground(QPainter* p, const QRectF&) {
    if (!m_scene->model()->graph().empty()) return;
    // An empty canvas says how to begin.
    p->save();
    p->resetTransform();
    p->setPen(QColor(0x8a, 0x90, 0x9a));
    QFont f = font();
    f.setPointSizeF(f.pointSizeF() * 1.2);
    p->setFont(f);
    p->drawText(viewport()->rect(), Qt::AlignCenter,
                tr("Drag a layer from the palette onto the canvas,\n"
                   "or double-click it to add it here."));
    p->restore();
}

}  // namespace strata::ui

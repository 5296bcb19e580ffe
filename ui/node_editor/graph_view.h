#pragma once
// The canvas viewport: wheel zoom around the cursor, fit to view, pan with the middle button or
// space-drag, rubber-band selection, and drops from the palette.
#include <QGraphicsView>

namespace strata::ui {

class GraphScene;

class GraphView : public QGraphicsView {
    Q_OBJECT
public:
    explicit GraphView(GraphScene* scene, QWidget* parent = nullptr);

    GraphScene* graphScene() const { return m_scene; }
    void fitGraph();
    void centreOn(QPointF scenePos);
    double zoom() const { return transform().m11(); }
    // Scales by `factor` keeping the scene point under `viewPos` in place.
    void zoomAt(QPoint viewPos, double factor);

protected:
    void wheelEvent(QWheelEvent* e) override;
    void mousePressEvent(QMouseEvent* e) override;
    void mouseMoveEvent(QMouseEvent* e) override;
    void mouseReleaseEvent(QMouseEvent* e) override;
    void keyPressEvent(QKeyEvent* e) override;
    void keyReleaseEvent(QKeyEvent* e) override;
    void dragEnterEvent(QDragEnterEvent* e) override;
    void dragMoveEvent(QDragMoveEvent* e) override;
    void dropEvent(QDropEvent* e) override;
    void drawForeground(QPainter* p, const QRectF& rect) override;

private:
    GraphScene* m_scene;
    bool m_spaceHeld = false;
    bool m_panning = false;
    QPoint m_panLast;
};

}  // namespace strata::ui

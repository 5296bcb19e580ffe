#pragma once
// The canvas: one NodeItem per node and one LinkItem per link of the EditorModel's graph, brought
// up to date after every edit. Mouse gestures (moving nodes, dragging wires) and the edit actions
// (delete, copy, paste, duplicate, auto layout) become undo commands here.
#include <QGraphicsScene>
#include <map>

#include "ui/node_editor/editor_model.h"

namespace strata::ui {

class NodeItem;
class LinkItem;
class PortItem;

inline constexpr const char* kLayerMime = "application/x-strata-layer";
inline constexpr const char* kFragmentMime = "application/x-strata-fragment";

class GraphScene : public QGraphicsScene {
    Q_OBJECT
public:
    explicit GraphScene(EditorModel* model, QObject* parent = nullptr);
    ~GraphScene() override;

    EditorModel* model() const { return m_model; }
    NodeItem* nodeItem(NodeId id) const;
    LinkItem* linkItem(LinkId id) const;

    // `scenePos` is the new node's top-left corner.
    Result<NodeId> addLayer(const std::string& type, QPointF scenePos);
    // The new node's centre lands on `sceneCentre` (a drop, the view centre).
    Result<NodeId> addLayerCentredAt(const std::string& type, QPointF sceneCentre);
    Result<void> connectPorts(const PortRef& from, const PortRef& to);

    std::vector<NodeId> selectedNodes() const;
    std::vector<LinkId> selectedLinks() const;
    void selectNodes(const std::vector<NodeId>& ids);

    void deleteSelection();
    void copySelection();
    void cutSelection();
    void paste();
    void duplicateSelection();
    void selectAllItems();
    void autoLayoutNodes();

    // The last sentence shown to the user (a refused wire, a failed paste...).
    const QString& lastMessage() const { return m_lastMessage; }

    // From NodeItem::itemChange.
    void nodeItemMoved(NodeItem* item);

signals:
    void statusMessage(const QString& text);
    // The node the inspector shows: the single selected node, or none.
    void currentNodeChanged(NodeId id);

protected:
    void mousePressEvent(QGraphicsSceneMouseEvent* e) override;
    void mouseMoveEvent(QGraphicsSceneMouseEvent* e) override;
    void mouseReleaseEvent(QGraphicsSceneMouseEvent* e) override;
    void drawBackground(QPainter* p, const QRectF& rect) override;

private:
    void sync();
    void syncPositions();
    void updateLinkGeometry(LinkItem* item);
    void say(const QString& text);
    PortItem* portAt(QPointF scenePos, PortItem* except = nullptr) const;
    void beginWire(PortItem* port);
    void endWire(QPointF scenePos);
    // Why a wire between these ports would be refused ("" when it would not be).
    QString wireRefusal(PortItem* a, PortItem* b) const;
    void pasteFragment(const nlohmann::json& fragment, const QString& text);

    EditorModel* m_model;
    std::map<NodeId, NodeItem*> m_nodes;
    std::map<LinkId, LinkItem*> m_links;
    bool m_syncing = false;
    QString m_lastMessage;

    // Moving nodes: positions at the press; one gesture number per drag.
    std::map<std::string, QPointF> m_dragStart;
    int m_gesture = 0;
    bool m_moving = false;

    // Dragging a wire.
    PortItem* m_wireFrom = nullptr;
    QGraphicsPathItem* m_wire = nullptr;
    PortItem* m_wireHover = nullptr;  // the port under the dragged wire's end

    int m_pasteCount = 0;
};

}  // namespace strata::ui

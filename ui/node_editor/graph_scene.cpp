#include "ui/node_editor/graph_scene.h"

#include <QApplication>
#include <QClipboard>
#include <QGraphicsSceneMouseEvent>
#include <QMimeData>
#include <QPainter>
#include <cmath>

#include "ui/node_editor/commands.h"
#include "ui/node_editor/graph_items.h"

namespace strata::ui {

GraphScene::GraphScene(EditorModel* model, QObject* parent) : QGraphicsScene(parent), m_model(model) {
    setItemIndexMethod(QGraphicsScene::NoIndex);
    connect(model, &EditorModel::graphChanged, this, &GraphScene::sync);
    connect(model, &EditorModel::layoutChanged, this, &GraphScene::syncPositions);
    connect(model, &EditorModel::documentReset, this, [this] { m_pasteCount = 0; });
    connect(this, &QGraphicsScene::selectionChanged, this, [this] {
        auto nodes = selectedNodes();
        emit currentNodeChanged(nodes.size() == 1 ? nodes[0] : NodeId{});
    });
    sync();
}

GraphScene::~GraphScene() {
    // Items are deleted by the base destructor; nothing may react to their removal then.
    blockSignals(true);
    disconnect(this, nullptr, nullptr, nullptr);
    m_nodes.clear();
    m_links.clear();
}

NodeItem* GraphScene::nodeItem(NodeId id) const {
    auto it = m_nodes.find(id);
    return it == m_nodes.end() ? nullptr : it->second;
}

LinkItem* GraphScene::linkItem(LinkId id) const {
    auto it = m_links.find(id);
    return it == m_links.end() ? nullptr : it->second;
}

void GraphScene::sync() {
    m_syncing = true;
    const Graph& g = m_model->graph();
    const GraphAnalysis& a = m_model->analysis();
    for (auto it = m_links.begin(); it != m_links.end();) {
        if (!g.link(it->first)) {
            delete it->second;
            it = m_links.erase(it);
        } else {
            ++it;
        }
    }
    for (auto it = m_nodes.begin(); it != m_nodes.end();) {
        if (!g.node(it->first)) {
            delete it->second;
            it = m_nodes.erase(it);
        } else {
            ++it;
        }
    }
    for (const auto& [id, n] : g.nodes()) {
        NodeItem*& item = m_nodes[id];
        if (!item) {
            item = new NodeItem(id);
            addItem(item);
        }
        item->refresh(g, a);
        QPointF p = m_model->position(id);
        if (item->pos() != p) item->setPos(p);
    }
    for (const auto& [id, l] : g.links()) {
        LinkItem*& item = m_links[id];
        if (!item) {
            item = new LinkItem(id);
            addItem(item);
        }
        const TensorType* t = a.outputType(l.from, g);
        item->setLabel(t ? QString::fromStdString(t->shape.rank() == 0 ? "scalar" : t->shape.str())
                         : QString());
        updateLinkGeometry(item);
    }
    m_syncing = false;
    emit currentNodeChanged([this] {
        auto nodes = selectedNodes();
        return nodes.size() == 1 ? nodes[0] : NodeId{};
    }());
}

void GraphScene::syncPositions() {
    m_syncing = true;
    for (auto& [id, item] : m_nodes) {
        QPointF p = m_model->position(id);
        if (item->pos() != p) item->setPos(p);
    }
    for (auto& [id, item] : m_links) updateLinkGeometry(item);
    m_syncing = false;
}

void GraphScene::updateLinkGeometry(LinkItem* item) {
    const Link* l = m_model->graph().link(item->id());
    if (!l) return;
    NodeItem* a = nodeItem(l->from.node);
    NodeItem* b = nodeItem(l->to.node);
    if (!a || !b) return;
    PortItem* pa = a->port(l->from.port, true);
    PortItem* pb = b->port(l->to.port, false);
    if (!pa || !pb) return;
    item->setEnds(pa->anchor(), pb->anchor());
}

void GraphScene::nodeItemMoved(NodeItem* item) {
    for (const Link* l : m_model->graph().linksOf(item->id())) {
        if (LinkItem* li = linkItem(l->id)) updateLinkGeometry(li);
    }
    if (m_syncing || !m_moving) return;
    // Every step of a drag is pushed and merged into the gesture's single command, so the model
    // always knows where the nodes are.
    std::map<std::string, MoveNodesCommand::Move> moves;
    for (const auto& [name, start] : m_dragStart) {
        const Node* n = m_model->graph().nodeByName(name);
        NodeItem* ni = n ? nodeItem(n->id) : nullptr;
        if (ni && ni->pos() != start) moves[name] = {start, ni->pos()};
    }
    if (moves.empty()) return;
    m_syncing = true;
    (void)m_model->push(new MoveNodesCommand(m_model, std::move(moves), m_gesture));
    m_syncing = false;
}

void GraphScene::say(const QString& text) {
    m_lastMessage = text;
    emit statusMessage(text);
}

Result<NodeId> GraphScene::addLayer(const std::string& type, QPointF scenePos) {
    auto* cmd = new AddNodeCommand(m_model, type, scenePos);
    auto ok = m_model->push(cmd);
    if (!ok) {
        say(tr("Cannot add %1: %2").arg(QString::fromStdString(type),
                                        QString::fromStdString(ok.message())));
        return ok.error();
    }
    NodeId id = cmd->nodeId();
    selectNodes({id});
    return id;
}

Result<NodeId> GraphScene::addLayerCentredAt(const std::string& type, QPointF sceneCentre) {
    // The item's bounding rect is symmetric about the body (port margins on both sides), so the
    // body's centre is the rect's centre.
    const QPointF half(NodeItem::kWidth / 2, NodeItem::heightFor(type) / 2);
    return addLayer(type, sceneCentre - half);
}

Result<void> GraphScene::connectPorts(const PortRef& from, const PortRef& to) {
    if (auto ok = m_model->checkConnection(from, to); !ok) {
        say(tr("Cannot connect: %1").arg(QString::fromStdString(ok.message())));
        return ok;
    }
    auto ok = m_model->push(new ConnectCommand(m_model, from, to));
    if (!ok) {
        say(tr("Cannot connect: %1").arg(QString::fromStdString(ok.message())));
        return ok;
    }
    const Graph& g = m_model->graph();
    say(tr("Connected %1.%2 to %3.%4")
            .arg(QString::fromStdString(g.node(from.node)->name), QString::fromStdString(from.port),
                 QString::fromStdString(g.node(to.node)->name), QString::fromStdString(to.port)));
    return {};
}

std::vector<NodeId> GraphScene::selectedNodes() const {
    std::vector<NodeId> out;
    for (const auto& [id, item] : m_nodes) {
        if (item->isSelected()) out.push_back(id);
    }
    return out;
}

std::vector<LinkId> GraphScene::selectedLinks() const {
    std::vector<LinkId> out;
    for (const auto& [id, item] : m_links) {
        if (item->isSelected()) out.push_back(id);
    }
    return out;
}

void GraphScene::selectNodes(const std::vector<NodeId>& ids) {
    blockSignals(true);
    clearSelection();
    for (NodeId id : ids) {
        if (NodeItem* item = nodeItem(id)) item->setSelected(true);
    }
    blockSignals(false);
    emit selectionChanged();
}

void GraphScene::deleteSelection() {
    auto nodes = selectedNodes();
    auto links = selectedLinks();
    if (nodes.empty() && links.empty()) return;
    if (auto ok = m_model->push(new RemoveNodesCommand(m_model, nodes, links)); !ok) {
        say(tr("Cannot delete: %1").arg(QString::fromStdString(ok.message())));
    }
}

void GraphScene::copySelection() {
    auto nodes = selectedNodes();
    if (nodes.empty()) return;
    auto* mime = new QMimeData;
    std::string text = copyFragment(*m_model, nodes).dump();
    mime->setData(kFragmentMime, QByteArray::fromStdString(text));
    mime->setText(QString::fromStdString(text));
    QApplication::clipboard()->setMimeData(mime);
    m_pasteCount = 0;
    say(tr("Copied %1").arg(countText(static_cast<int64_t>(nodes.size()), tr("node"), tr("nodes"))));
}

void GraphScene::cutSelection() {
    auto nodes = selectedNodes();
    if (nodes.empty()) return;
    copySelection();
    auto* cmd = new RemoveNodesCommand(m_model, nodes);
    cmd->setText(
        tr("Cut %1").arg(countText(static_cast<int64_t>(nodes.size()), tr("node"), tr("nodes"))));
    (void)m_model->push(cmd);
}

void GraphScene::pasteFragment(const nlohmann::json& fragment, const QString& text) {
    ++m_pasteCount;
    auto* cmd = new PasteCommand(m_model, fragment, QPointF(40, 40) * m_pasteCount, text);
    auto ok = m_model->push(cmd);
    if (!ok) {
        say(tr("Cannot paste: %1").arg(QString::fromStdString(ok.message())));
        return;
    }
    // The command stays alive on the undo stack.
    selectNodes(cmd->pasted());
}

void GraphScene::paste() {
    const QMimeData* mime = QApplication::clipboard()->mimeData();
    if (!mime || !mime->hasFormat(kFragmentMime)) {
        say(tr("The clipboard holds no Strata nodes"));
        return;
    }
    auto j = nlohmann::json::parse(mime->data(kFragmentMime).toStdString(), nullptr, false);
    if (j.is_discarded()) {
        say(tr("The clipboard holds a damaged Strata fragment"));
        return;
    }
    const int64_t count = j.contains("nodes") && j["nodes"].is_array()
                              ? static_cast<int64_t>(j["nodes"].size())
                              : 0;
    pasteFragment(j, tr("Paste %1").arg(countText(count, tr("node"), tr("nodes"))));
}

void GraphScene::duplicateSelection() {
    auto nodes = selectedNodes();
    if (nodes.empty()) return;
    int keep = m_pasteCount;
    m_pasteCount = 0;
    pasteFragment(copyFragment(*m_model, nodes),
                  tr("Duplicate %1").arg(countText(static_cast<int64_t>(nodes.size()), tr("node"),
                                                   tr("nodes"))));
    m_pasteCount = keep;
}

void GraphScene::selectAllItems() {
    blockSignals(true);
    for (auto& [id, item] : m_nodes) item->setSelected(true);
    for (auto& [id, item] : m_links) item->setSelected(true);
    blockSignals(false);
    emit selectionChanged();
}

void GraphScene::autoLayoutNodes() {
    std::map<std::string, MoveNodesCommand::Move> moves;
    for (const auto& [name, l] : autoLayout(m_model->graph())) {
        QPointF to(l.x, l.y);
        QPointF from = m_model->position(name);
        if (from != to) moves[name] = {from, to};
    }
    if (moves.empty()) {
        say(tr("The graph is already laid out"));
        return;
    }
    (void)m_model->push(new MoveNodesCommand(m_model, std::move(moves), -1, tr("Auto layout")));
}

// ---- mouse: moving nodes and dragging wires ----

PortItem* GraphScene::portAt(QPointF scenePos, PortItem* except) const {
    // A little tolerance around the port makes wires easy to drop.
    const double r = PortItem::kRadius + 6;
    PortItem* best = nullptr;
    double bestDist = r;
    for (QGraphicsItem* it : items(QRectF(scenePos - QPointF(r, r), QSizeF(2 * r, 2 * r)))) {
        if (it->type() != PortItem::Type || it == except) continue;
        auto* p = static_cast<PortItem*>(it);
        double d = std::hypot(p->anchor().x() - scenePos.x(), p->anchor().y() - scenePos.y());
        if (d <= bestDist) {
            bestDist = d;
            best = p;
        }
    }
    return best;
}

void GraphScene::mousePressEvent(QGraphicsSceneMouseEvent* e) {
    if (e->button() == Qt::LeftButton) {
        if (PortItem* port = portAt(e->scenePos())) {
            beginWire(port);
            e->accept();
            return;
        }
    }
    QGraphicsScene::mousePressEvent(e);
    if (e->button() == Qt::LeftButton) {
        m_dragStart.clear();
        for (NodeId id : selectedNodes()) {
            m_dragStart[m_model->graph().node(id)->name] = nodeItem(id)->pos();
        }
        m_moving = !m_dragStart.empty();
        ++m_gesture;
    }
}

void GraphScene::mouseMoveEvent(QGraphicsSceneMouseEvent* e) {
    if (m_wire) {
        QPointF from = m_wireFrom->anchor();
        QPointF to = e->scenePos();
        PortItem* target = portAt(to, m_wireFrom);
        if (target) to = target->anchor();
        if (target != m_wireHover) {
            // Over a port that would refuse the wire, say why before the button is released.
            m_wireHover = target;
            if (target && target->highlight() == PortItem::Highlight::Incompatible) {
                say(tr("Cannot connect here: %1").arg(wireRefusal(m_wireFrom, target)));
            } else if (target) {
                say(tr("Release to connect"));
            } else {
                say(tr("Drag to a highlighted port to connect"));
            }
        }
        m_wire->setPath(m_wireFrom->isOutput() ? LinkItem::wirePath(from, to)
                                               : LinkItem::wirePath(to, from));
        e->accept();
        return;
    }
    QGraphicsScene::mouseMoveEvent(e);
}

void GraphScene::mouseReleaseEvent(QGraphicsSceneMouseEvent* e) {
    if (m_wire) {
        endWire(e->scenePos());
        e->accept();
        return;
    }
    QGraphicsScene::mouseReleaseEvent(e);
    m_moving = false;
    m_dragStart.clear();
}

void GraphScene::beginWire(PortItem* port) {
    m_wireFrom = port;
    m_wire = new QGraphicsPathItem;
    QPen pen(QColor(0x5f, 0xd0, 0x7a), 2, Qt::DashLine);
    m_wire->setPen(pen);
    m_wire->setZValue(3);
    addItem(m_wire);
    // Light up the ports this wire may end on: tried on a copy of the graph.
    for (auto& [id, item] : m_nodes) {
        for (PortItem* p : item->ports()) {
            if (p->isOutput() == port->isOutput()) continue;
            PortRef from = port->isOutput() ? port->ref() : p->ref();
            PortRef to = port->isOutput() ? p->ref() : port->ref();
            bool ok = m_model->checkConnection(from, to).ok();
            p->setHighlight(ok ? PortItem::Highlight::Compatible : PortItem::Highlight::Incompatible);
        }
    }
    say(tr("Drag to a highlighted port to connect"));
}

QString GraphScene::wireRefusal(PortItem* a, PortItem* b) const {
    if (a->isOutput() == b->isOutput()) {
        return tr("a link goes from an output port (right) to an input port (left)");
    }
    PortRef from = a->isOutput() ? a->ref() : b->ref();
    PortRef to = a->isOutput() ? b->ref() : a->ref();
    auto ok = m_model->checkConnection(from, to);
    return ok ? QString() : QString::fromStdString(ok.message());
}

void GraphScene::endWire(QPointF scenePos) {
    PortItem* from = m_wireFrom;
    PortItem* target = portAt(scenePos, from);
    delete m_wire;
    m_wire = nullptr;
    m_wireFrom = nullptr;
    m_wireHover = nullptr;
    for (auto& [id, item] : m_nodes) {
        for (PortItem* p : item->ports()) p->setHighlight(PortItem::Highlight::None);
    }
    if (!target) {
        say(QString());
        return;
    }
    if (target->isOutput() == from->isOutput()) {
        say(tr("Cannot connect: %1").arg(wireRefusal(from, target)));
        return;
    }
    PortRef a = from->isOutput() ? from->ref() : target->ref();
    PortRef b = from->isOutput() ? target->ref() : from->ref();
    (void)connectPorts(a, b);
}

void GraphScene::drawBackground(QPainter* p, const QRectF& rect) {
    p->fillRect(rect, QColor(0x26, 0x28, 0x2c));
    constexpr double kStep = 20;
    const double left = std::floor(rect.left() / kStep) * kStep;
    const double top = std::floor(rect.top() / kStep) * kStep;
    QVector<QLineF> minor, major;
    for (double x = left; x < rect.right(); x += kStep) {
        (std::fmod(std::abs(x), kStep * 5) < 0.5 ? major : minor)
            .append(QLineF(x, rect.top(), x, rect.bottom()));
    }
    for (double y = top; y < rect.bottom(); y += kStep) {
        (std::fmod(std::abs(y), kStep * 5) < 0.5 ? major : minor)
            .append(QLineF(rect.left(), y, rect.right(), y));
    }
    p->setPen(QPen(QColor(0x2e, 0x30, 0x35), 0));
    p->drawLines(minor);
    p->setPen(QPen(QColor(0x35, 0x38, 0x3e), 0));
    p->drawLines(major);
}

}  // namespace strata::ui

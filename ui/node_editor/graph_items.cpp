#include "ui/node_editor/graph_items.h"

#include <QFontMetricsF>
#include <QPainter>
#include <QStyleOptionGraphicsItem>

#include "core/layers/registry.h"
#include "ui/node_editor/graph_scene.h"

namespace strata::ui {

namespace {

constexpr double kHeader = 26, kNameRow = 22, kPortRow = 20, kInfoRow = 18, kCorner = 6;

QColor categoryColour(const std::string& category) {
    // Stable per category, readable on the dark canvas.
    static const QColor palette[] = {QColor(0x4c, 0x8b, 0xc9), QColor(0x5a, 0xa8, 0x6b),
                                     QColor(0xc9, 0x8b, 0x3a), QColor(0x9b, 0x6b, 0xc9),
                                     QColor(0x3a, 0xa8, 0xa8), QColor(0xc9, 0x6b, 0x8b),
                                     QColor(0x8b, 0x9b, 0x4c), QColor(0x6b, 0x7b, 0xc9)};
    const auto cats = LayerRegistry::instance().categories();
    auto it = std::find(cats.begin(), cats.end(), category);
    size_t i = it == cats.end() ? 0 : static_cast<size_t>(it - cats.begin());
    return palette[i % std::size(palette)];
}

const QColor kError(0xe0, 0x4f, 0x4f);
const QColor kSelected(0xf0, 0xc0, 0x40);

}  // namespace

// ---- PortItem ----

PortItem::PortItem(NodeItem* node, std::string port, bool isOutput)
    : QGraphicsItem(node), m_node(node), m_port(std::move(port)), m_output(isOutput) {
    setAcceptHoverEvents(true);
    setCursor(Qt::CrossCursor);
    setZValue(1);
}

QRectF PortItem::boundingRect() const {
    const double r = kRadius + 3;
    return QRectF(-r, -r, 2 * r, 2 * r);
}

void PortItem::paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*) {
    p->setRenderHint(QPainter::Antialiasing);
    QColor fill = m_connected ? QColor(0xd8, 0xdc, 0xe2) : QColor(0x2b, 0x2d, 0x31);
    QColor ring(0xd8, 0xdc, 0xe2);
    double r = kRadius;
    if (m_highlight == Highlight::Compatible) {
        fill = QColor(0x5f, 0xd0, 0x7a);
        ring = fill.lighter(130);
        r += 2;
    } else if (m_highlight == Highlight::Incompatible) {
        ring = QColor(0x70, 0x70, 0x70);
        fill = QColor(0x40, 0x40, 0x40);
    }
    p->setPen(QPen(ring, 1.6));
    p->setBrush(fill);
    p->drawEllipse(QPointF(0, 0), r, r);
}

PortRef PortItem::ref() const { return PortRef{m_node->id(), m_port}; }

void PortItem::setHighlight(Highlight h) {
    if (h == m_highlight) return;
    m_highlight = h;
    update();
}

void PortItem::setConnected(bool c) {
    if (c == m_connected) return;
    m_connected = c;
    update();
}

// ---- NodeItem ----

NodeItem::NodeItem(NodeId id) : m_id(id) {
    setFlags(ItemIsMovable | ItemIsSelectable | ItemSendsGeometryChanges);
    setAcceptHoverEvents(true);
    setZValue(2);
}

namespace {
double heightForRows(size_t portRows) {
    return kHeader + kNameRow + static_cast<double>(portRows) * kPortRow + 6 + 2 * kInfoRow + 6;
}
}  // namespace

double NodeItem::heightFor(const std::string& type, const Params& params) {
    const LayerSpec* spec = findLayer(type);
    if (!spec) return heightForRows(1);
    Params p = spec->defaultParams();
    for (const auto& [k, v] : params) p[k] = v;
    return heightForRows(std::max(spec->inputPorts(p).size(), spec->outputs.size()));
}

QRectF NodeItem::boundingRect() const {
    const double m = PortItem::kRadius + 4;
    return QRectF(-m, -2, kWidth + 2 * m, m_height + 4);
}

void NodeItem::refresh(const Graph& g, const GraphAnalysis& a) {
    const Node* n = g.node(m_id);
    if (!n) return;
    const LayerSpec* spec = findLayer(n->type);
    m_label = QString::fromStdString(spec->label);
    m_typeId = QString::fromStdString(n->type);
    m_name = QString::fromStdString(n->name);
    m_accent = categoryColour(spec->category);
    m_loss = spec->isLoss;

    std::vector<std::string> inputs, outputs;
    for (const auto& p : spec->inputPorts(n->params)) inputs.push_back(p.name);
    for (const auto& p : spec->outputs) outputs.push_back(p.name);
    if (inputs != m_inputNames || outputs != m_outputNames) {
        prepareGeometryChange();
        for (PortItem* p : m_ports) delete p;
        m_ports.clear();
        m_inputNames = inputs;
        m_outputNames = outputs;
        m_height = heightForRows(std::max(inputs.size(), outputs.size()));
        for (size_t i = 0; i < inputs.size(); ++i) {
            auto* p = new PortItem(this, inputs[i], false);
            p->setPos(0, kHeader + kNameRow + (static_cast<double>(i) + 0.5) * kPortRow);
            m_ports.push_back(p);
        }
        for (size_t i = 0; i < outputs.size(); ++i) {
            auto* p = new PortItem(this, outputs[i], true);
            p->setPos(kWidth, kHeader + kNameRow + (static_cast<double>(i) + 0.5) * kPortRow);
            m_ports.push_back(p);
        }
    }
    for (PortItem* p : m_ports) {
        bool connected = false;
        for (const Link* l : g.linksOf(m_id)) {
            const PortRef& end = p->isOutput() ? l->from : l->to;
            connected = connected || (end.node == m_id && end.port == p->portName());
        }
        p->setConnected(connected);
    }

    auto it = a.nodes.find(m_id);
    m_error.clear();
    m_shapes.clear();
    m_params.clear();
    if (it != a.nodes.end()) {
        const NodeAnalysis& na = it->second;
        m_error = QString::fromStdString(na.error);
        if (na.info) {
            QStringList shapes;
            for (const auto& o : na.info->outputs) {
                QString s = QString::fromStdString(o.shape.rank() == 0 ? "scalar" : o.shape.str());
                if (o.dtype == DType::Int32) s += " int32";
                shapes << s;
            }
            m_shapes = shapes.join("; ");
            m_params = na.parameters > 0
                           ? QObject::tr("%1 params").arg(QLocale().toString(
                                 static_cast<qlonglong>(na.parameters)))
                           : QObject::tr("no params");
        }
    }
    if (m_shapes.isEmpty()) m_shapes = m_error.isEmpty() ? QObject::tr("shape unknown") : QObject::tr("error");
    setToolTip(m_error.isEmpty()
                   ? QString("<b>%1</b> (%2)<br>%3").arg(m_label, m_typeId,
                                                         QString::fromStdString(spec->doc).toHtmlEscaped())
                   : QString("<b>%1</b><br><span style='color:#e04f4f'>%2</span>")
                         .arg(m_name, m_error.toHtmlEscaped()));
    update();
}

PortItem* NodeItem::port(const std::string& name, bool output) const {
    for (PortItem* p : m_ports) {
        if (p->portName() == name && p->isOutput() == output) return p;
    }
    return nullptr;
}

void NodeItem::paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*) {
    p->setRenderHint(QPainter::Antialiasing);
    p->setRenderHint(QPainter::TextAntialiasing);
    const bool bad = !m_error.isEmpty();
    const QRectF body(0, 0, kWidth, m_height);

    // Body and header.
    QPainterPath outline;
    outline.addRoundedRect(body, kCorner, kCorner);
    p->fillPath(outline, bad ? QColor(0x4a, 0x2c, 0x2e) : QColor(0x3a, 0x3d, 0x44));
    QPainterPath header;
    header.addRoundedRect(QRectF(0, 0, kWidth, kHeader), kCorner, kCorner);
    header.addRect(QRectF(0, kHeader - kCorner, kWidth, kCorner));
    p->fillPath(header.simplified(), bad ? kError : m_accent);

    QPen border(isSelected() ? kSelected : (bad ? kError : QColor(0x22, 0x23, 0x27)),
                isSelected() ? 2.4 : 1.2);
    p->setPen(border);
    p->setBrush(Qt::NoBrush);
    p->drawPath(outline);

    QFont f = p->font();
    QFont bold = f;
    bold.setBold(true);
    QFont small = f;
    small.setPointSizeF(f.pointSizeF() * 0.85);

    // The label wins over the type id when both do not fit.
    const QString tag = m_loss ? QObject::tr("loss") : m_typeId;
    const double labelWidth = QFontMetricsF(bold).horizontalAdvance(m_label);
    const double tagWidth = QFontMetricsF(small).horizontalAdvance(tag);
    const bool showTag = labelWidth + tagWidth + 12 <= kWidth - 20;
    p->setPen(Qt::white);
    p->setFont(bold);
    p->drawText(QRectF(10, 0, kWidth - 20, kHeader), Qt::AlignVCenter | Qt::AlignLeft,
                QFontMetricsF(bold).elidedText(m_label, Qt::ElideRight, kWidth - 20));
    if (showTag) {
        p->setFont(small);
        p->setPen(QColor(255, 255, 255, 170));
        p->drawText(QRectF(10, 0, kWidth - 20, kHeader), Qt::AlignVCenter | Qt::AlignRight, tag);
    }

    p->setFont(bold);
    p->setPen(QColor(0xee, 0xee, 0xee));
    p->drawText(QRectF(10, kHeader, kWidth - 20, kNameRow), Qt::AlignVCenter | Qt::AlignLeft,
                m_name);

    p->setFont(small);
    p->setPen(QColor(0xb0, 0xb4, 0xbc));
    for (PortItem* port : m_ports) {
        const double y = port->pos().y();
        QRectF r(14, y - kPortRow / 2, kWidth - 28, kPortRow);
        p->drawText(r, Qt::AlignVCenter | (port->isOutput() ? Qt::AlignRight : Qt::AlignLeft),
                    QString::fromStdString(port->portName()));
    }

    const size_t rows = std::max(m_inputNames.size(), m_outputNames.size());
    double y = kHeader + kNameRow + static_cast<double>(rows) * kPortRow + 4;
    p->setPen(QColor(0x44, 0x47, 0x4f));
    p->drawLine(QPointF(6, y), QPointF(kWidth - 6, y));
    y += 2;
    p->setFont(f);
    p->setPen(bad ? QColor(0xff, 0x9a, 0x9a) : QColor(0x9f, 0xd8, 0xff));
    p->drawText(QRectF(10, y, kWidth - 20, kInfoRow), Qt::AlignVCenter | Qt::AlignLeft,
                QFontMetricsF(f).elidedText(m_shapes, Qt::ElideRight, kWidth - 20));
    p->setFont(small);
    p->setPen(QColor(0xb0, 0xb4, 0xbc));
    p->drawText(QRectF(10, y + kInfoRow, kWidth - 20, kInfoRow), Qt::AlignVCenter | Qt::AlignLeft,
                bad ? QFontMetricsF(small).elidedText(m_error, Qt::ElideRight, kWidth - 20)
                    : m_params);
}

QVariant NodeItem::itemChange(GraphicsItemChange change, const QVariant& value) {
    if (change == ItemPositionHasChanged) {
        if (auto* s = dynamic_cast<GraphScene*>(scene())) s->nodeItemMoved(this);
    }
    return QGraphicsItem::itemChange(change, value);
}

// ---- LinkItem ----

LinkItem::LinkItem(LinkId id) : m_id(id) {
    setFlags(ItemIsSelectable);
    setZValue(0);
}

QPainterPath LinkItem::wirePath(QPointF from, QPointF to) {
    QPainterPath path(from);
    const double dx = std::max(40.0, std::abs(to.x() - from.x()) * 0.5);
    path.cubicTo(from + QPointF(dx, 0), to - QPointF(dx, 0), to);
    return path;
}

void LinkItem::setEnds(QPointF from, QPointF to) {
    prepareGeometryChange();
    m_path = wirePath(from, to);
}

void LinkItem::setLabel(const QString& text) {
    if (text == m_label) return;
    prepareGeometryChange();
    m_label = text;
}

QRectF LinkItem::labelRect() const {
    if (m_label.isEmpty()) return {};
    QFont f;
    f.setPointSizeF(f.pointSizeF() * 0.85);
    QFontMetricsF fm(f);
    QSizeF size(fm.horizontalAdvance(m_label) + 10, fm.height() + 4);
    // Above the wire's middle, so that the label never hides the wire or a port.
    QPointF mid = m_path.pointAtPercent(0.5);
    return QRectF(mid - QPointF(size.width() / 2, size.height() + 3), size);
}

QRectF LinkItem::boundingRect() const {
    return m_path.boundingRect().adjusted(-4, -4, 4, 4).united(labelRect());
}

QPainterPath LinkItem::shape() const {
    QPainterPathStroker stroker;
    stroker.setWidth(10);
    QPainterPath s = stroker.createStroke(m_path);
    s.addRect(labelRect());
    return s;
}

void LinkItem::paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*) {
    p->setRenderHint(QPainter::Antialiasing);
    p->setPen(QPen(isSelected() ? kSelected : QColor(0xa8, 0xb0, 0xbc), isSelected() ? 3 : 2));
    p->setBrush(Qt::NoBrush);
    p->drawPath(m_path);
    if (m_label.isEmpty()) return;
    QFont f = p->font();
    f.setPointSizeF(f.pointSizeF() * 0.85);
    p->setFont(f);
    QRectF r = labelRect();
    p->setPen(Qt::NoPen);
    p->setBrush(QColor(0x25, 0x27, 0x2b, 230));
    p->drawRoundedRect(r, 4, 4);
    p->setPen(QColor(0xcf, 0xd6, 0xe0));
    p->drawText(r, Qt::AlignCenter, m_label);
}

}  // namespace strata::ui

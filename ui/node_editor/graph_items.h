#pragma once
// The canvas items: a NodeItem per graph node with a PortItem per port, a LinkItem per link.
// Items only draw what the model says; GraphScene updates them after every edit.
#include <QGraphicsItem>
#include <QGraphicsPathItem>

#include "core/graph/shape_inference.h"

namespace strata::ui {

class NodeItem;

class PortItem : public QGraphicsItem {
public:
    enum { Type = UserType + 1 };
    enum class Highlight { None, Compatible, Incompatible };
    PortItem(NodeItem* node, std::string port, bool isOutput);

    int type() const override { return Type; }
    QRectF boundingRect() const override;
    void paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*) override;

    NodeItem* nodeItem() const { return m_node; }
    const std::string& portName() const { return m_port; }
    bool isOutput() const { return m_output; }
    PortRef ref() const;
    void setHighlight(Highlight h);
    Highlight highlight() const { return m_highlight; }
    void setConnected(bool c);
    QPointF anchor() const { return scenePos(); }  // where links attach

    static constexpr double kRadius = 6;

private:
    NodeItem* m_node;
    std::string m_port;
    bool m_output;
    bool m_connected = false;
    Highlight m_highlight = Highlight::None;
};

class NodeItem : public QGraphicsItem {
public:
    enum { Type = UserType + 2 };
    explicit NodeItem(NodeId id);

    int type() const override { return Type; }
    QRectF boundingRect() const override;
    void paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*) override;

    NodeId id() const { return m_id; }
    // Refreshes text, ports and colour from the graph and its analysis.
    void refresh(const Graph& g, const GraphAnalysis& a);
    PortItem* port(const std::string& name, bool output) const;
    const std::vector<PortItem*>& ports() const { return m_ports; }
    const QString& errorText() const { return m_error; }
    const QString& shapesText() const { return m_shapes; }
    const QString& nameText() const { return m_name; }
    const QString& typeText() const { return m_typeId; }
    const QString& paramsText() const { return m_params; }  // "4,640 params", "no params"
    double width() const { return kWidth; }
    double height() const { return m_height; }
    // The height a node of this type with these params gets (its port rows decide it), known
    // before the node exists so that a new node can be placed by its centre.
    static double heightFor(const std::string& type, const Params& params = {});

    static constexpr double kWidth = 200;

protected:
    QVariant itemChange(GraphicsItemChange change, const QVariant& value) override;

private:
    NodeId m_id;
    QString m_label, m_typeId, m_name, m_shapes, m_params;
    QString m_error;
    QColor m_accent;
    bool m_loss = false;
    double m_height = 100;
    std::vector<PortItem*> m_ports;
    std::vector<std::string> m_inputNames, m_outputNames;
};

class LinkItem : public QGraphicsItem {
public:
    enum { Type = UserType + 3 };
    explicit LinkItem(LinkId id);

    int type() const override { return Type; }
    QRectF boundingRect() const override;
    QPainterPath shape() const override;
    void paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*) override;

    LinkId id() const { return m_id; }
    void setEnds(QPointF from, QPointF to);
    void setLabel(const QString& text);
    const QString& label() const { return m_label; }

    // The bezier used for links and for the wire being dragged.
    static QPainterPath wirePath(QPointF from, QPointF to);

private:
    QRectF labelRect() const;
    LinkId m_id;
    QPainterPath m_path;
    QString m_label;
};

}  // namespace strata::ui

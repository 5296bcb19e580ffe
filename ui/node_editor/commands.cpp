#include "ui/node_editor/commands.h"

#include <QObject>
#include <algorithm>
#include <cctype>

#include "core/layers/registry.h"

namespace strata::ui {

namespace {

QString q(const std::string& s) { return QString::fromStdString(s); }

// Undo and redo replay what was applied once on the same state, so they cannot be refused; a
// refusal here means the model was changed behind the undo stack's back.
void mustHold(const Result<void>& r) {
    if (!r) qFatal("undo history out of step with the graph: %s", r.message().c_str());
}

// "fc12" -> "fc": the stem Graph::uniqueName numbers from.
std::string nameStem(const std::string& name) {
    size_t end = name.size();
    while (end > 1 && std::isdigit(static_cast<unsigned char>(name[end - 1]))) --end;
    std::string stem = name.substr(0, end);
    if (!stem.empty() && (stem.back() == '_' || stem.back() == '-')) stem.pop_back();
    return stem.empty() ? name : stem;
}

}  // namespace

Result<void> EditCommand::apply() {
    auto ok = doRedo();
    if (ok) {
        m_applied = true;
        notify();
    }
    return ok;
}

void EditCommand::redo() {
    // QUndoStack::push calls redo() on a command apply() has already executed.
    if (m_applied) {
        m_applied = false;
        return;
    }
    mustHold(doRedo());
    notify();
}

void EditCommand::undo() {
    doUndo();
    notify();
}

void EditCommand::notify() {
    if (layoutOnly()) {
        m_model->layoutEdited();
    } else {
        m_model->graphEdited();
    }
}

// ---- AddNode ----

AddNodeCommand::AddNodeCommand(EditorModel* model, const std::string& type, QPointF pos,
                               const std::string& name, const Params& params)
    : EditCommand(model, QObject::tr("Add %1").arg(q(type))),
      m_type(type), m_name(name), m_params(params), m_pos(pos) {}

Result<void> AddNodeCommand::doRedo() {
    if (m_node.id.valid()) {
        if (auto ok = GraphEdit(graph()).restoreNode(m_node); !ok) return ok;
    } else {
        auto id = GraphEdit(graph()).addNode(m_type, m_name, m_params);
        if (!id) return id.error();
        m_node = *graph().node(*id);
        setText(QObject::tr("Add %1 '%2'").arg(q(m_type), q(m_node.name)));
    }
    m_model->setPosition(m_node.name, m_pos);
    return {};
}

void AddNodeCommand::doUndo() {
    mustHold([&]() -> Result<void> {
        auto r = GraphEdit(graph()).removeNode(m_node.id);
        if (!r) return r.error();
        return {};
    }());
    m_model->erasePosition(m_node.name);
}

// ---- RemoveNodes ----

RemoveNodesCommand::RemoveNodesCommand(EditorModel* model, std::vector<NodeId> nodes,
                                       std::vector<LinkId> links)
    : EditCommand(model, {}), m_ids(std::move(nodes)), m_linkIds(std::move(links)) {
    if (m_ids.size() == 1 && m_linkIds.empty()) {
        const Node* n = model->graph().node(m_ids[0]);
        setText(QObject::tr("Delete '%1'").arg(n ? q(n->name) : QString()));
    } else if (m_ids.empty() && m_linkIds.size() == 1) {
        setText(QObject::tr("Delete link"));
    } else {
        setText(QObject::tr("Delete %1").arg(countText(
            static_cast<int64_t>(m_ids.size() + m_linkIds.size()), QObject::tr("item"),
            QObject::tr("items"))));
    }
}

Result<void> RemoveNodesCommand::doRedo() {
    std::vector<Link> links;
    std::vector<RemovedNode> removed;
    Graph backup = graph();
    GraphEdit edit(graph());
    for (LinkId id : m_linkIds) {
        if (!graph().link(id)) continue;  // also selected through one of its nodes
        auto l = edit.disconnect(id);
        if (!l) {
            graph() = backup;
            return l.error();
        }
        links.push_back(*l);
    }
    for (NodeId id : m_ids) {
        auto r = edit.removeNode(id);
        if (!r) {
            graph() = backup;
            return r.error();
        }
        removed.push_back(std::move(*r));
    }
    m_removedLinks = std::move(links);
    m_removed = std::move(removed);
    m_positions.clear();
    for (const RemovedNode& r : m_removed) {
        const auto& layout = m_model->document().layout;
        if (auto it = layout.find(r.node.name); it != layout.end()) {
            m_positions[r.node.name] = it->second;
        }
        m_model->erasePosition(r.node.name);
    }
    return {};
}

void RemoveNodesCommand::doUndo() {
    GraphEdit edit(graph());
    // Reverse order: a link recorded with a later node may lead to an earlier one.
    for (auto it = m_removed.rbegin(); it != m_removed.rend(); ++it) {
        mustHold(edit.restore(*it));
    }
    for (const Link& l : m_removedLinks) mustHold(edit.restoreLink(l));
    for (const auto& [name, p] : m_positions) m_model->setPosition(name, QPointF(p.x, p.y));
}

// ---- Connect / Disconnect ----

ConnectCommand::ConnectCommand(EditorModel* model, PortRef from, PortRef to)
    : EditCommand(model, {}) {
    m_link.from = std::move(from);
    m_link.to = std::move(to);
    const Node* a = model->graph().node(m_link.from.node);
    const Node* b = model->graph().node(m_link.to.node);
    if (a && b) setText(QObject::tr("Connect '%1' to '%2'").arg(q(a->name), q(b->name)));
}

Result<void> ConnectCommand::doRedo() {
    if (m_link.id.valid()) return GraphEdit(graph()).restoreLink(m_link);
    auto id = GraphEdit(graph()).connect(m_link.from, m_link.to);
    if (!id) return id.error();
    m_link.id = *id;
    return {};
}

void ConnectCommand::doUndo() {
    auto r = GraphEdit(graph()).disconnect(m_link.id);
    if (!r) mustHold(r.error());
}

DisconnectCommand::DisconnectCommand(EditorModel* model, LinkId id)
    : EditCommand(model, QObject::tr("Disconnect")), m_id(id) {}

Result<void> DisconnectCommand::doRedo() {
    auto l = GraphEdit(graph()).disconnect(m_id);
    if (!l) return l.error();
    m_link = *l;
    return {};
}

void DisconnectCommand::doUndo() { mustHold(GraphEdit(graph()).restoreLink(m_link)); }

// ---- SetParam ----

SetParamCommand::SetParamCommand(EditorModel* model, NodeId node, std::string param,
                                 ParamValue value, int mergeKey)
    : EditCommand(model, {}), m_node(node), m_param(std::move(param)), m_new(std::move(value)),
      m_mergeKey(mergeKey) {
    const Node* n = model->graph().node(node);
    if (n) {
        if (auto it = n->params.find(m_param); it != n->params.end()) m_old = it->second;
        setText(QObject::tr("Set %1.%2 to %3").arg(q(n->name), q(m_param), q(paramValueText(m_new))));
    }
}

bool SetParamCommand::mergeWith(const QUndoCommand* other) {
    auto* o = dynamic_cast<const SetParamCommand*>(other);
    if (!o || m_mergeKey < 0 || o->m_mergeKey != m_mergeKey || o->m_node != m_node ||
        o->m_param != m_param) {
        return false;
    }
    m_new = o->m_new;
    setText(o->text());
    return true;
}

Result<void> SetParamCommand::doRedo() { return GraphEdit(graph()).setParam(m_node, m_param, m_new); }

void SetParamCommand::doUndo() { mustHold(GraphEdit(graph()).setParam(m_node, m_param, m_old)); }

// ---- Rename ----

RenameCommand::RenameCommand(EditorModel* model, NodeId node, std::string newName)
    : EditCommand(model, {}), m_node(node), m_new(std::move(newName)) {
    if (const Node* n = model->graph().node(node)) m_old = n->name;
    setText(QObject::tr("Rename '%1' to '%2'").arg(q(m_old), q(m_new)));
}

Result<void> RenameCommand::doRedo() {
    if (auto ok = GraphEdit(graph()).renameNode(m_node, m_new); !ok) return ok;
    m_model->renamePosition(m_old, m_new);
    return {};
}

void RenameCommand::doUndo() {
    mustHold(GraphEdit(graph()).renameNode(m_node, m_old));
    m_model->renamePosition(m_new, m_old);
}

// ---- MoveNodes ----

MoveNodesCommand::MoveNodesCommand(EditorModel* model, std::map<std::string, Move> moves,
                                   int gesture, const QString& text)
    : EditCommand(model, text), m_moves(std::move(moves)), m_gesture(gesture),
      m_namedByCount(text.isEmpty()) {
    if (m_namedByCount) nameByCount();
}

void MoveNodesCommand::nameByCount() {
    setText(QObject::tr("Move %1").arg(countText(static_cast<int64_t>(m_moves.size()),
                                                 QObject::tr("node"), QObject::tr("nodes"))));
}

bool MoveNodesCommand::mergeWith(const QUndoCommand* other) {
    auto* o = dynamic_cast<const MoveNodesCommand*>(other);
    if (!o || o->m_gesture != m_gesture || m_gesture < 0) return false;
    for (const auto& [name, m] : o->m_moves) {
        auto it = m_moves.find(name);
        if (it == m_moves.end()) {
            m_moves[name] = m;
        } else {
            it->second.to = m.to;
        }
    }
    // The nodes of one drag report their moves one at a time.
    if (m_namedByCount) nameByCount();
    return true;
}

Result<void> MoveNodesCommand::doRedo() {
    for (const auto& [name, m] : m_moves) {
        if (!graph().nodeByName(name)) return fail("there is no node named '" + name + "' to move");
    }
    for (const auto& [name, m] : m_moves) m_model->setPosition(name, m.to);
    return {};
}

void MoveNodesCommand::doUndo() {
    for (const auto& [name, m] : m_moves) m_model->setPosition(name, m.from);
}

// ---- clipboard fragments and Paste ----

nlohmann::json paramsToJson(const Params& p) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [name, v] : p) {
        std::visit([&](const auto& x) { j[name] = x; }, v);
    }
    return j;
}

Result<Params> paramsFromJson(const nlohmann::json& j) {
    Params p;
    if (!j.is_object()) return fail("parameters must be an object");
    for (const auto& [name, v] : j.items()) {
        if (v.is_boolean()) {
            p[name] = v.get<bool>();
        } else if (v.is_number_integer()) {
            p[name] = v.get<int64_t>();
        } else if (v.is_number()) {
            p[name] = v.get<double>();
        } else if (v.is_string()) {
            p[name] = v.get<std::string>();
        } else if (v.is_array() && std::all_of(v.begin(), v.end(),
                                               [](const auto& e) { return e.is_number_integer(); })) {
            p[name] = v.get<std::vector<int64_t>>();
        } else {
            return fail("parameter '" + name + "' has a value of the wrong kind");
        }
    }
    return p;
}

nlohmann::json copyFragment(const EditorModel& model, const std::vector<NodeId>& nodes) {
    const Graph& g = model.graph();
    nlohmann::json j{{"nodes", nlohmann::json::array()}, {"links", nlohmann::json::array()}};
    for (NodeId id : nodes) {
        const Node* n = g.node(id);
        if (!n) continue;
        QPointF p = model.position(id);
        j["nodes"].push_back({{"name", n->name}, {"type", n->type},
                              {"params", paramsToJson(n->params)}, {"x", p.x()}, {"y", p.y()}});
    }
    auto inside = [&](NodeId id) { return std::find(nodes.begin(), nodes.end(), id) != nodes.end(); };
    for (const auto& [id, l] : g.links()) {
        if (inside(l.from.node) && inside(l.to.node)) {
            j["links"].push_back({{"from", {g.node(l.from.node)->name, l.from.port}},
                                  {"to", {g.node(l.to.node)->name, l.to.port}}});
        }
    }
    return j;
}

PasteCommand::PasteCommand(EditorModel* model, nlohmann::json fragment, QPointF offset,
                           const QString& text)
    : EditCommand(model, text), m_fragment(std::move(fragment)), m_offset(offset) {}

Result<void> PasteCommand::firstApply() {
    if (!m_fragment.contains("nodes") || !m_fragment["nodes"].is_array()) {
        return fail("the clipboard holds no Strata nodes");
    }
    Graph backup = graph();
    GraphEdit edit(graph());
    std::map<std::string, NodeId> byOldName;
    auto undoAll = [&](Error e) {
        graph() = backup;
        m_nodes.clear();
        m_links.clear();
        m_pastedIds.clear();
        m_positions.clear();
        return e;
    };
    try {
        for (const auto& jn : m_fragment["nodes"]) {
            std::string old = jn.at("name").get<std::string>();
            auto params = paramsFromJson(jn.at("params"));
            if (!params) return undoAll(params.error());
            std::string name = graph().nodeByName(old) ? graph().uniqueName(nameStem(old)) : old;
            auto id = edit.addNode(jn.at("type").get<std::string>(), name, *params);
            if (!id) return undoAll(id.error());
            byOldName[old] = *id;
            m_nodes.push_back(*graph().node(*id));
            m_pastedIds.push_back(*id);
            m_positions[name] = QPointF(jn.value("x", 0.0), jn.value("y", 0.0)) + m_offset;
        }
        for (const auto& jl : m_fragment.value("links", nlohmann::json::array())) {
            auto from = jl.at("from"), to = jl.at("to");
            auto a = byOldName.find(from.at(0).get<std::string>());
            auto b = byOldName.find(to.at(0).get<std::string>());
            if (a == byOldName.end() || b == byOldName.end()) continue;
            auto id = edit.connect({a->second, from.at(1).get<std::string>()},
                                   {b->second, to.at(1).get<std::string>()});
            if (!id) return undoAll(id.error());
            m_links.push_back(*graph().link(*id));
        }
    } catch (const nlohmann::json::exception&) {
        return undoAll(fail("the clipboard holds a damaged Strata fragment"));
    }
    if (m_nodes.empty()) return fail("the clipboard holds no Strata nodes");
    return {};
}

Result<void> PasteCommand::doRedo() {
    if (!m_done) {
        if (auto ok = firstApply(); !ok) return ok;
        m_done = true;
    } else {
        GraphEdit edit(graph());
        for (const Node& n : m_nodes) mustHold(edit.restoreNode(n));
        for (const Link& l : m_links) mustHold(edit.restoreLink(l));
    }
    for (const auto& [name, p] : m_positions) m_model->setPosition(name, p);
    return {};
}

void PasteCommand::doUndo() {
    GraphEdit edit(graph());
    for (const Node& n : m_nodes) {
        auto r = edit.removeNode(n.id);
        if (!r) mustHold(r.error());
        m_model->erasePosition(n.name);
    }
}

}  // namespace strata::ui

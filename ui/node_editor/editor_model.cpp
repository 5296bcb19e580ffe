#include "ui/node_editor/editor_model.h"

#include <algorithm>

#include "core/layers/registry.h"
#include "ui/node_editor/commands.h"

namespace strata::ui {

EditorModel::EditorModel(QObject* parent) : QObject(parent) { reanalyze(); }

void EditorModel::reset(Document doc) {
    m_undo.clear();
    m_doc = std::move(doc);
    reanalyze();
    m_undo.setClean();
    emit documentReset();
    emit graphChanged();
}

QPointF EditorModel::position(const std::string& nodeName) const {
    auto it = m_doc.layout.find(nodeName);
    return it == m_doc.layout.end() ? QPointF() : QPointF(it->second.x, it->second.y);
}

QPointF EditorModel::position(NodeId id) const {
    const Node* n = m_doc.graph.node(id);
    return n ? position(n->name) : QPointF();
}

Result<void> EditorModel::push(EditCommand* cmd) {
    auto ok = cmd->apply();
    if (!ok) {
        delete cmd;
        return ok;
    }
    m_undo.push(cmd);
    return {};
}

Result<void> EditorModel::checkConnection(const PortRef& from, const PortRef& to) const {
    Graph trial = m_doc.graph;
    if (auto linked = GraphEdit(trial).connect(from, to); !linked) return linked.error();
    const Node* dst = trial.node(to.node);
    const LayerSpec* spec = findLayer(dst->type);
    // The shape rule can only judge the wire once every required input of the target is fed
    // and the source's shape is known.
    for (const PortSpec& p : spec->inputPorts(dst->params)) {
        if (!p.optional && !trial.linkInto(to.node, p.name)) return {};
    }
    GraphAnalysis a = analyze(trial);
    auto it = a.nodes.find(to.node);
    if (it != a.nodes.end() && !it->second.error.empty()) return fail(it->second.error);
    return {};
}

void EditorModel::setPosition(const std::string& nodeName, QPointF p) {
    m_doc.layout[nodeName] = NodeLayout{p.x(), p.y()};
}

void EditorModel::erasePosition(const std::string& nodeName) { m_doc.layout.erase(nodeName); }

void EditorModel::renamePosition(const std::string& from, const std::string& to) {
    auto it = m_doc.layout.find(from);
    if (it == m_doc.layout.end()) return;
    NodeLayout l = it->second;
    m_doc.layout.erase(it);
    m_doc.layout[to] = l;
}

void EditorModel::graphEdited() {
    reanalyze();
    emit graphChanged();
}

void EditorModel::layoutEdited() { emit layoutChanged(); }

void EditorModel::setDataset(std::optional<DatasetBinding> binding) {
    m_doc.dataset = std::move(binding);
    emit datasetChanged();
}

void EditorModel::reanalyze() {
    m_analysis = analyze(m_doc.graph);
    m_training = m_doc.graph.empty() ? std::vector<Problem>{} : trainingProblems(m_doc.graph);
}

std::map<std::string, NodeLayout> autoLayout(const Graph& g) {
    constexpr double kColumn = 290, kRow = 170;  // room between columns for shape labels
    std::map<std::string, NodeLayout> out;
    auto order = g.topologicalOrder();
    std::vector<NodeId> ids;
    if (order) {
        ids = *order;
    } else {
        for (const auto& [id, n] : g.nodes()) ids.push_back(id);
    }
    std::map<NodeId, int> depth;
    int maxDepth = 0;
    for (NodeId id : ids) {
        int d = 0;
        for (const Link* l : g.linksOf(id)) {
            if (l->to.node == id && depth.count(l->from.node)) {
                d = std::max(d, depth[l->from.node] + 1);
            }
        }
        depth[id] = d;
        maxDepth = std::max(maxDepth, d);
    }
    std::vector<std::vector<NodeId>> columns(static_cast<size_t>(maxDepth + 1));
    for (NodeId id : ids) columns[static_cast<size_t>(depth[id])].push_back(id);
    // Within a column, order by the mean row of the sources to keep wires short and uncrossed.
    std::map<NodeId, double> row;
    for (auto& col : columns) {
        std::vector<std::pair<double, NodeId>> keyed;
        for (size_t i = 0; i < col.size(); ++i) {
            double sum = 0;
            int count = 0;
            for (const Link* l : g.linksOf(col[i])) {
                if (l->to.node == col[i] && row.count(l->from.node)) {
                    sum += row[l->from.node];
                    ++count;
                }
            }
            keyed.push_back({count ? sum / count : static_cast<double>(i), col[i]});
        }
        std::stable_sort(keyed.begin(), keyed.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        for (size_t i = 0; i < keyed.size(); ++i) {
            col[i] = keyed[i].second;
            row[col[i]] = static_cast<double>(i) - (static_cast<double>(keyed.size()) - 1) / 2;
        }
    }
    for (size_t c = 0; c < columns.size(); ++c) {
        for (NodeId id : columns[c]) {
            out[g.node(id)->name] = NodeLayout{static_cast<double>(c) * kColumn, row[id] * kRow};
        }
    }
    return out;
}

QString countText(int64_t n, const QString& one, const QString& many) {
    return QString::number(n) + ' ' + (n == 1 ? one : many);
}

QString compactCount(int64_t n) {
    const double v = static_cast<double>(n);
    if (n >= 1'000'000'000) return QString::number(v / 1e9, 'f', 2) + " G";
    if (n >= 1'000'000) return QString::number(v / 1e6, 'f', 2) + " M";
    if (n >= 10'000) return QString::number(v / 1e3, 'f', 1) + " k";
    return QString::number(n);
}

QString byteText(int64_t bytes) {
    const double v = static_cast<double>(bytes);
    if (bytes >= (1 << 30)) return QString::number(v / (1 << 30), 'f', 2) + " GiB";
    if (bytes >= (1 << 20)) return QString::number(v / (1 << 20), 'f', 2) + " MiB";
    if (bytes >= (1 << 10)) return QString::number(v / (1 << 10), 'f', 1) + " KiB";
    return QString::number(bytes) + " B";
}

}  // namespace strata::ui

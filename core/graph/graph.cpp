#include "core/graph/graph.h"

#include <cctype>
#include <set>

#include "core/graph/graph_edit.h"
#include "core/layers/registry.h"

namespace strata {

const Node* Graph::node(NodeId id) const {
    auto it = m_nodes.find(id);
    return it == m_nodes.end() ? nullptr : &it->second;
}

const Node* Graph::nodeByName(const std::string& name) const {
    for (const auto& [id, n] : m_nodes) {
        if (n.name == name) return &n;
    }
    return nullptr;
}

const Link* Graph::link(LinkId id) const {
    auto it = m_links.find(id);
    return it == m_links.end() ? nullptr : &it->second;
}

const Link* Graph::linkInto(NodeId node, const std::string& port) const {
    for (const auto& [id, l] : m_links) {
        if (l.to.node == node && l.to.port == port) return &l;
    }
    return nullptr;
}

std::vector<const Link*> Graph::linksFrom(NodeId node) const {
    std::vector<const Link*> out;
    for (const auto& [id, l] : m_links) {
        if (l.from.node == node) out.push_back(&l);
    }
    return out;
}

std::vector<const Link*> Graph::linksOf(NodeId node) const {
    std::vector<const Link*> out;
    for (const auto& [id, l] : m_links) {
        if (l.from.node == node || l.to.node == node) out.push_back(&l);
    }
    return out;
}

std::optional<std::vector<NodeId>> Graph::topologicalOrder() const {
    std::map<NodeId, int> indegree;
    for (const auto& [id, n] : m_nodes) indegree[id] = 0;
    for (const auto& [id, l] : m_links) ++indegree[l.to.node];
    // Kahn's algorithm; ready nodes are taken in id order so the order is deterministic.
    std::set<NodeId> ready;
    for (const auto& [id, d] : indegree) {
        if (d == 0) ready.insert(id);
    }
    std::vector<NodeId> order;
    while (!ready.empty()) {
        NodeId id = *ready.begin();
        ready.erase(ready.begin());
        order.push_back(id);
        for (const Link* l : linksFrom(id)) {
            if (--indegree[l->to.node] == 0) ready.insert(l->to.node);
        }
    }
    if (order.size() != m_nodes.size()) return std::nullopt;
    return order;
}

std::string Graph::uniqueName(const std::string& stem) const {
    std::string base = stem.empty() ? "node" : stem;
    if (std::isdigit(static_cast<unsigned char>(base.back()))) base += "_";
    for (int i = 1;; ++i) {
        std::string name = base + std::to_string(i);
        if (!nodeByName(name)) return name;
    }
}

Result<void> checkConsistency(const Graph& g) {
    std::set<std::string> names;
    for (const auto& [id, n] : g.nodes()) {
        if (id != n.id) return fail("node '" + n.name + "' is stored under another id");
        if (!isValidNodeName(n.name)) return fail("node name '" + n.name + "' is not valid");
        if (!names.insert(n.name).second) return fail("two nodes are named '" + n.name + "'");
        const LayerSpec* spec = findLayer(n.type);
        if (!spec) return fail("node '" + n.name + "' has unknown type '" + n.type + "'");
        auto checked = spec->checkParams(n.params);
        if (!checked) return fail("node '" + n.name + "': " + checked.message());
        if (*checked != n.params) return fail("node '" + n.name + "' has incomplete parameters");
    }
    std::set<std::pair<NodeId, std::string>> fed;
    for (const auto& [id, l] : g.links()) {
        if (id != l.id) return fail("a link is stored under another id");
        const Node* from = g.node(l.from.node);
        const Node* to = g.node(l.to.node);
        if (!from || !to) return fail("a link refers to a missing node");
        if (findLayer(from->type)->outputIndex(l.from.port) < 0)
            return fail("a link leaves unknown port '" + from->name + "." + l.from.port + "'");
        if (findLayer(to->type)->inputIndex(to->params, l.to.port) < 0)
            return fail("a link enters unknown port '" + to->name + "." + l.to.port + "'");
        if (!fed.insert({l.to.node, l.to.port}).second)
            return fail("input '" + to->name + "." + l.to.port + "' has two sources");
        if (l.from.node == l.to.node) return fail("node '" + from->name + "' feeds itself");
    }
    if (!g.topologicalOrder()) return fail("the graph has a cycle");
    return {};
}

}  // namespace strata

#include "core/graph/graph_edit.h"

#include <cctype>
#include <functional>
#include <set>

#include "core/layers/registry.h"

namespace strata {

std::string describeNode(const Node& n) { return n.type + " '" + n.name + "'"; }

bool isValidNodeName(const std::string& name) {
    if (name.empty() || name.size() > 64) return false;
    if (!std::isalpha(static_cast<unsigned char>(name[0])) && name[0] != '_') return false;
    for (char c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
    }
    return true;
}

Result<void> GraphEdit::checkName(const std::string& name, NodeId self) const {
    if (!isValidNodeName(name)) {
        return fail("'" + name + "' is not a valid node name: use letters, digits, '_' or '-', "
                    "starting with a letter, at most 64 characters");
    }
    const Node* other = m_g.nodeByName(name);
    if (other && other->id != self) {
        return fail("a node named '" + name + "' already exists; choose another name");
    }
    return {};
}

Result<NodeId> GraphEdit::addNode(const std::string& type, const std::string& name,
                                  const Params& params) {
    const LayerSpec* spec = findLayer(type);
    if (!spec) return fail("unknown layer type '" + type + "'; `strata layers` lists them");
    std::string n = name.empty() ? m_g.uniqueName(type) : name;
    if (auto ok = checkName(n, {}); !ok) return ok.error();
    auto checked = spec->checkParams(params);
    if (!checked) return fail(type + " '" + n + "': " + checked.message());
    NodeId id{m_g.m_nextNode++};
    m_g.m_nodes[id] = Node{id, n, type, std::move(*checked)};
    return id;
}

Result<RemovedNode> GraphEdit::removeNode(NodeId id) {
    const Node* n = m_g.node(id);
    if (!n) return fail("there is no such node to remove");
    RemovedNode removed{*n, {}};
    for (const Link* l : m_g.linksOf(id)) removed.links.push_back(*l);
    for (const Link& l : removed.links) m_g.m_links.erase(l.id);
    m_g.m_nodes.erase(id);
    return removed;
}

Result<void> GraphEdit::renameNode(NodeId id, const std::string& newName) {
    auto it = m_g.m_nodes.find(id);
    if (it == m_g.m_nodes.end()) return fail("there is no such node to rename");
    if (auto ok = checkName(newName, id); !ok) return ok;
    it->second.name = newName;
    return {};
}

Result<void> GraphEdit::checkLink(const PortRef& from, const PortRef& to) const {
    const Node* src = m_g.node(from.node);
    const Node* dst = m_g.node(to.node);
    if (!src || !dst) return fail("both ends of a link must be existing nodes");
    const LayerSpec* srcSpec = findLayer(src->type);
    const LayerSpec* dstSpec = findLayer(dst->type);
    if (srcSpec->outputIndex(from.port) < 0) {
        return fail(describeNode(*src) + " has no output port '" + from.port + "'");
    }
    if (dstSpec->inputIndex(dst->params, to.port) < 0) {
        return fail(describeNode(*dst) + " has no input port '" + to.port + "'");
    }
    if (from.node == to.node) {
        return fail("cannot connect " + describeNode(*src) + " to itself");
    }
    if (const Link* existing = m_g.linkInto(to.node, to.port)) {
        return fail("input '" + dst->name + "." + to.port + "' already has a source ('" +
                    m_g.node(existing->from.node)->name + "'); disconnect it first");
    }
    // A cycle appears iff `from.node` is reachable from `to.node`.
    std::set<NodeId> seen;
    std::function<bool(NodeId)> reaches = [&](NodeId n) {
        if (n == from.node) return true;
        if (!seen.insert(n).second) return false;
        for (const Link* l : m_g.linksFrom(n)) {
            if (reaches(l->to.node)) return true;
        }
        return false;
    };
    if (reaches(to.node)) {
        return fail("connecting '" + src->name + "' to '" + dst->name +
                    "' would make a cycle; Strata graphs flow one way");
    }
    return {};
}

Result<LinkId> GraphEdit::connect(const PortRef& from, const PortRef& to) {
    if (auto ok = checkLink(from, to); !ok) return ok.error();
    LinkId id{m_g.m_nextLink++};
    m_g.m_links[id] = Link{id, from, to};
    return id;
}

Result<Link> GraphEdit::disconnect(LinkId id) {
    const Link* l = m_g.link(id);
    if (!l) return fail("there is no such link to disconnect");
    Link removed = *l;
    m_g.m_links.erase(id);
    return removed;
}

Result<void> GraphEdit::setParam(NodeId id, const std::string& name, const ParamValue& value) {
    auto it = m_g.m_nodes.find(id);
    if (it == m_g.m_nodes.end()) return fail("there is no such node");
    Node& n = it->second;
    const LayerSpec* spec = findLayer(n.type);
    const ParamSpec* ps = spec->param(name);
    if (!ps) return fail(describeNode(n) + " has no parameter '" + name + "'");
    auto checked = ps->check(value);
    if (!checked) return fail(describeNode(n) + ": " + checked.message());
    if (name == spec->variadicCountParam) {
        Params next = n.params;
        next[name] = *checked;
        for (const Link* l : m_g.linksOf(id)) {
            if (l->to.node == id && spec->inputIndex(next, l->to.port) < 0) {
                return fail(describeNode(n) + ": input '" + l->to.port +
                            "' is connected; disconnect it before removing the port");
            }
        }
    }
    n.params[name] = std::move(*checked);
    return {};
}

Result<void> GraphEdit::restoreNode(const Node& node) {
    if (!node.id.valid() || m_g.node(node.id)) return fail("that node id is already in use");
    const LayerSpec* spec = findLayer(node.type);
    if (!spec) return fail("unknown layer type '" + node.type + "'");
    if (auto ok = checkName(node.name, node.id); !ok) return ok;
    auto checked = spec->checkParams(node.params);
    if (!checked) return fail(describeNode(node) + ": " + checked.message());
    Node n = node;
    n.params = std::move(*checked);
    m_g.m_nodes[n.id] = std::move(n);
    m_g.m_nextNode = std::max(m_g.m_nextNode, node.id.value + 1);
    return {};
}

Result<void> GraphEdit::restoreLink(const Link& link) {
    if (!link.id.valid() || m_g.link(link.id)) return fail("that link id is already in use");
    if (auto ok = checkLink(link.from, link.to); !ok) return ok;
    m_g.m_links[link.id] = link;
    m_g.m_nextLink = std::max(m_g.m_nextLink, link.id.value + 1);
    return {};
}

Result<void> GraphEdit::restore(const RemovedNode& removed) {
    if (auto ok = restoreNode(removed.node); !ok) return ok;
    for (const Link& l : removed.links) {
        if (auto ok = restoreLink(l); !ok) return ok;
    }
    return {};
}

}  // namespace strata

#pragma once
// The model graph: nodes (a layer type, a unique readable name, parameters) and links from an
// output port to an input port. Read-only here; GraphEdit is the only way to change it.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/graph/ids.h"
#include "core/layers/param.h"
#include "core/util/result.h"

namespace strata {

struct LayerSpec;

struct Node {
    NodeId id;
    std::string name;  // unique, human-readable: "conv1"
    std::string type;  // layer type id: "conv2d"
    Params params;     // complete and checked against the type's ParamSpecs
    bool operator==(const Node&) const = default;
};

struct PortRef {
    NodeId node;
    std::string port;
    bool operator==(const PortRef&) const = default;
};

struct Link {
    LinkId id;
    PortRef from;  // an output port
    PortRef to;    // an input port
    bool operator==(const Link&) const = default;
};

class Graph {
public:
    const std::map<NodeId, Node>& nodes() const { return m_nodes; }
    const std::map<LinkId, Link>& links() const { return m_links; }
    const Node* node(NodeId id) const;
    const Node* nodeByName(const std::string& name) const;
    const Link* link(LinkId id) const;
    // The link feeding an input port, if any.
    const Link* linkInto(NodeId node, const std::string& port) const;
    std::vector<const Link*> linksFrom(NodeId node) const;
    std::vector<const Link*> linksOf(NodeId node) const;  // both directions
    // Nodes in an order where every node follows its sources; empty when there is a cycle.
    std::optional<std::vector<NodeId>> topologicalOrder() const;
    // "conv3" from "conv": the first free name with the smallest positive suffix.
    std::string uniqueName(const std::string& stem) const;
    bool empty() const { return m_nodes.empty(); }
    // Same nodes (ids, names, types, params) and links.
    bool operator==(const Graph& o) const { return m_nodes == o.m_nodes && m_links == o.m_links; }

private:
    friend class GraphEdit;
    std::map<NodeId, Node> m_nodes;
    std::map<LinkId, Link> m_links;
    uint32_t m_nextNode = 1;
    uint32_t m_nextLink = 1;
};

// Verifies the invariants GraphEdit maintains: unique names, known types, complete valid params,
// links between existing ports of existing nodes, one source per input, no cycle. Returns the
// first violation as a sentence.
Result<void> checkConsistency(const Graph& g);

}  // namespace strata

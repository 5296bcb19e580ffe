#pragma once
// The only mutation API of a Graph. Every method either applies the whole change or refuses it
// with a sentence and leaves the graph untouched. Undo commands use the returned records to
// restore exactly what was removed (same ids).
#include <string>
#include <vector>

#include "core/graph/graph.h"

namespace strata {

struct RemovedNode {
    Node node;
    std::vector<Link> links;  // every link that touched it
};

class GraphEdit {
public:
    explicit GraphEdit(Graph& g) : m_g(g) {}

    // name empty: a unique one from the type ("conv2d" -> "conv2d_1"). Params are checked and
    // completed with defaults.
    Result<NodeId> addNode(const std::string& type, const std::string& name = {},
                           const Params& params = {});
    Result<RemovedNode> removeNode(NodeId id);
    Result<void> renameNode(NodeId id, const std::string& newName);
    Result<LinkId> connect(const PortRef& from, const PortRef& to);
    Result<Link> disconnect(LinkId id);
    // Changing a variadic count that drops ports in use is refused.
    Result<void> setParam(NodeId id, const std::string& name, const ParamValue& value);

    // Undo/redo and document loading: put back a node or link with its original id.
    Result<void> restoreNode(const Node& node);
    Result<void> restoreLink(const Link& link);
    Result<void> restore(const RemovedNode& removed);

private:
    Result<void> checkName(const std::string& name, NodeId self) const;
    Result<void> checkLink(const PortRef& from, const PortRef& to) const;
    Graph& m_g;
};

// "conv2d 'conv1'"
std::string describeNode(const Node& n);
bool isValidNodeName(const std::string& name);

}  // namespace strata

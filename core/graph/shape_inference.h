#pragma once
// Shape inference over a whole graph: every output port gets a type, or its node gets an error
// that names the node, the port, what was expected and what arrived. Nodes downstream of an error
// get no shapes and no error of their own (the first fault is the one to fix).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/graph/graph.h"
#include "core/layers/layer_spec.h"

namespace strata {

struct NodeAnalysis {
    std::optional<LayerInfo> info;  // set when the node's shapes are known
    std::string error;              // set when this node is at fault
    int64_t parameters = 0;         // trainable parameter count
    int64_t flops = 0;              // forward, per sample
    int64_t activationBytes = 0;    // outputs, per sample
};

struct Problem {
    NodeId node;
    std::string message;  // complete sentence, starts with the node: "conv2d 'conv2' expects..."
};

struct GraphAnalysis {
    std::map<NodeId, NodeAnalysis> nodes;
    std::vector<Problem> problems;  // node errors and graph-level ones (no loss, a cycle...)
    int64_t parameters = 0;
    int64_t flops = 0;
    int64_t activationBytes = 0;

    bool ok() const { return problems.empty(); }
    const TensorType* outputType(const PortRef& port, const Graph& g) const;
};

GraphAnalysis analyze(const Graph& g);

// Problems that stop training but not editing: no loss node, more than one loss node, nodes not
// connected to the loss.
std::vector<Problem> trainingProblems(const Graph& g);

}  // namespace strata

#include "core/graph/shape_inference.h"

#include "core/graph/graph_edit.h"
#include "core/layers/registry.h"

namespace strata {

const TensorType* GraphAnalysis::outputType(const PortRef& port, const Graph& g) const {
    auto it = nodes.find(port.node);
    if (it == nodes.end() || !it->second.info) return nullptr;
    const Node* n = g.node(port.node);
    int idx = findLayer(n->type)->outputIndex(port.port);
    if (idx < 0 || idx >= static_cast<int>(it->second.info->outputs.size())) return nullptr;
    return &it->second.info->outputs[static_cast<size_t>(idx)];
}

static int64_t dtypeBytes(DType) { return 4; }

GraphAnalysis analyze(const Graph& g) {
    GraphAnalysis a;
    auto order = g.topologicalOrder();
    if (!order) {
        a.problems.push_back({{}, "the graph has a cycle; Strata graphs flow one way"});
        return a;
    }
    for (NodeId id : *order) {
        const Node& n = *g.node(id);
        const LayerSpec& spec = *findLayer(n.type);
        NodeAnalysis& na = a.nodes[id];
        auto ports = spec.inputPorts(n.params);
        std::vector<InputInfo> inputs(ports.size());
        bool upstreamUnknown = false;
        std::string missing;
        for (size_t i = 0; i < ports.size(); ++i) {
            const Link* l = g.linkInto(id, ports[i].name);
            if (!l) {
                if (!ports[i].optional && missing.empty()) missing = ports[i].name;
                continue;
            }
            const TensorType* t = a.outputType(l->from, g);
            if (!t) {
                upstreamUnknown = true;
                continue;
            }
            inputs[i] = {t, "'" + g.node(l->from.node)->name + "'"};
        }
        if (!missing.empty()) {
            na.error = describeNode(n) + " has nothing connected to its input '" + missing +
                       "'; wire an output to it";
        } else if (!upstreamUnknown) {
            auto info = spec.infer(LayerContext{n.params, inputs});
            if (!info) {
                na.error = describeNode(n) + " " + info.message();
            } else {
                for (const auto& w : info->weights) {
                    if (w.trainable) na.parameters += product(w.dims);
                }
                na.flops = info->flops;
                for (const auto& o : info->outputs) {
                    na.activationBytes += o.shape.numel() * dtypeBytes(o.dtype);
                }
                na.info = std::move(*info);
                a.parameters += na.parameters;
                a.flops += na.flops;
                a.activationBytes += na.activationBytes;
            }
        }
        if (!na.error.empty()) a.problems.push_back({id, na.error});
    }
    return a;
}

std::vector<Problem> trainingProblems(const Graph& g) {
    std::vector<Problem> out;
    std::vector<NodeId> losses;
    for (const auto& [id, n] : g.nodes()) {
        if (findLayer(n.type)->isLoss) losses.push_back(id);
    }
    if (losses.empty()) {
        out.push_back({{}, "the graph has no loss node; add cross_entropy, mse or "
                           "bce_with_logits after the model's output"});
        return out;
    }
    if (losses.size() > 1) {
        out.push_back({losses[1], describeNode(*g.node(losses[1])) +
                                      " is a second loss node; keep one loss per graph"});
    }
    // Every node must contribute to the loss, else it would never be trained or evaluated.
    std::map<NodeId, bool> reaches;
    auto order = g.topologicalOrder();
    if (!order) return out;
    for (auto it = order->rbegin(); it != order->rend(); ++it) {
        bool r = *it == losses[0];
        for (const Link* l : g.linksFrom(*it)) r = r || reaches[l->to.node];
        reaches[*it] = r;
    }
    for (NodeId id : *order) {
        if (!reaches[id]) {
            out.push_back({id, describeNode(*g.node(id)) +
                                   " does not lead to the loss; connect it or delete it"});
        }
    }
    return out;
}

}  // namespace strata

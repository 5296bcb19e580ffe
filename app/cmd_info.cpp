// strata info FILE: one row per node (type, output shape, parameters, FLOPs) and the totals.
#include <iostream>

#include "app/commands.h"
#include "app/format.h"
#include "app/load_document.h"
#include "core/graph/shape_inference.h"
#include "core/io/document.h"

namespace strata::app {

namespace {

struct Row {
    std::string node, type, shape, params, flops;
};

void printTable(const std::vector<Row>& rows) {
    size_t w[5] = {0, 0, 0, 0, 0};
    for (const Row& r : rows) {
        const std::string* cells[] = {&r.node, &r.type, &r.shape, &r.params, &r.flops};
        for (size_t i = 0; i < 5; ++i) w[i] = std::max(w[i], cells[i]->size());
    }
    auto pad = [](const std::string& s, size_t width, bool right) {
        std::string fill(width - s.size(), ' ');
        return right ? fill + s : s + fill;
    };
    for (size_t k = 0; k < rows.size(); ++k) {
        const Row& r = rows[k];
        if (k == rows.size() - 1) {
            std::cout << std::string(w[0] + w[1] + w[2] + w[3] + w[4] + 8, '-') << "\n";
        }
        std::cout << pad(r.node, w[0], false) << "  " << pad(r.type, w[1], false) << "  "
                  << pad(r.shape, w[2], false) << "  " << pad(r.params, w[3], true) << "  "
                  << pad(r.flops, w[4], true) << "\n";
        if (k == 0) std::cout << std::string(w[0] + w[1] + w[2] + w[3] + w[4] + 8, '-') << "\n";
    }
}

}  // namespace

int cmdInfo(const Args& args) {
    if (args.size() != 1) return usageError("info takes one document: strata info FILE");
    const std::string& file = args[0];
    int exitCode = kOk;
    auto doc = loadDocument(file, exitCode);
    if (!doc) return exitCode;
    const Graph& g = doc->graph;
    const GraphAnalysis analysis = analyze(g);
    std::vector<Row> rows = {{"node", "type", "output shape", "parameters", "FLOPs"}};
    const auto order = g.topologicalOrder().value_or(std::vector<NodeId>{});
    for (NodeId id : order) {
        const Node& n = *g.node(id);
        const NodeAnalysis& na = analysis.nodes.at(id);
        Row r{n.name, n.type, "?", "?", "?"};
        if (na.info) {
            r.shape.clear();
            for (const auto& o : na.info->outputs) {
                r.shape += (r.shape.empty() ? "" : " ") + o.shape.str();
                if (o.dtype == DType::Int32) r.shape += " int32";
            }
            r.params = withThousands(na.parameters);
            r.flops = withThousands(na.flops);
        }
        rows.push_back(std::move(r));
    }
    rows.push_back({"total", std::to_string(order.size()) + " nodes", "",
                    withThousands(analysis.parameters), withThousands(analysis.flops)});
    std::cout << (doc->name.empty() ? file : doc->name + " (" + file + ")") << "\n\n";
    printTable(rows);
    std::cout << "\nparameters: " << withThousands(analysis.parameters) << " ("
              << byteText(analysis.parameters * 4) << " as float32)\n"
              << "forward FLOPs per sample: " << withThousands(analysis.flops) << "\n"
              << "activation memory per sample: " << byteText(analysis.activationBytes)
              << (analysis.activationBytes >= 1024
                      ? " (" + withThousands(analysis.activationBytes) + " bytes)"
                      : std::string())
              << " of forward outputs\n";
    if (!analysis.problems.empty()) {
        std::cerr << "\n" << file << ": " << analysis.problems.size()
                  << (analysis.problems.size() == 1 ? " problem" : " problems")
                  << " (run 'strata validate' for the full check)\n";
        for (const auto& p : analysis.problems) std::cerr << "  - " << p.message << "\n";
        return kInvalid;
    }
    return kOk;
}

}  // namespace strata::app

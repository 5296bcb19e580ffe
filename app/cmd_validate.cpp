// strata validate FILE: reads a document and reports every problem of its graph, by node.
#include <iostream>

#include "app/commands.h"
#include "app/format.h"
#include "app/load_document.h"
#include "core/graph/shape_inference.h"
#include "core/io/document.h"

namespace strata::app {

int cmdValidate(const Args& args) {
    if (args.size() != 1) return usageError("validate takes one document: strata validate FILE");
    const std::string& file = args[0];
    int exitCode = kOk;
    auto doc = loadDocument(file, exitCode);
    if (!doc) return exitCode;
    const GraphAnalysis analysis = analyze(doc->graph);
    std::vector<Problem> problems = analysis.problems;
    for (auto& p : trainingProblems(doc->graph)) problems.push_back(std::move(p));
    if (!problems.empty()) {
        std::cerr << file << ": " << problems.size()
                  << (problems.size() == 1 ? " problem" : " problems") << "\n";
        for (const auto& p : problems) std::cerr << "  - " << p.message << "\n";
        return kInvalid;
    }
    const size_t nodes = doc->graph.nodes().size();
    std::cout << file << ": valid (" << nodes << (nodes == 1 ? " node, " : " nodes, ")
              << withThousands(analysis.parameters) << " parameters)\n";
    return kOk;
}

}  // namespace strata::app

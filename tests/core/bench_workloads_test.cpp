// The benchmark workload documents (bench/W*.strata.json) must stay what bench/workloads.md says
// and what bench/torch_reference.py trains: same graph sizes, batch and optimizer. A drift would
// make every Strata/PyTorch ratio in docs/benchmarks.md compare two different jobs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "core/graph/shape_inference.h"
#include "core/io/document.h"

namespace strata {
namespace {

namespace fs = std::filesystem;
const fs::path kSource = STRATA_SOURCE_DIR;

struct Workload {
    const char* id;
    int64_t parameters;  // PyTorch's count: `bench/torch_reference.py --params`
    int64_t batchSize;
    const char* optimizer;
    double learningRate;
    double momentum;
};

const Workload kWorkloads[] = {
    {"W1", 269322, 128, "sgd", 0.01, 0.9},
    {"W2", 44426, 64, "sgd", 0.01, 0.9},
    {"W3", 243969, 32, "adam", 0.001, 0.0},
    {"W4", 421184, 32, "adam", 0.001, 0.0},
};

std::string readText(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The "**total**" row of the workload's section in bench/workloads.md, digits only.
int64_t documentedTotal(const std::string& markdown, const std::string& id) {
    const size_t section = markdown.find("\n## " + id + " ");
    if (section == std::string::npos) return -1;
    const size_t row = markdown.find("| **total** |", section);
    if (row == std::string::npos) return -1;
    const std::string line = markdown.substr(row, markdown.find('\n', row) - row);
    std::smatch m;
    if (!std::regex_search(line, m, std::regex(R"(\*\*([0-9,]+)\*\*)"))) return -1;
    std::string digits;
    for (char c : m[1].str()) {
        if (c != ',') digits += c;
    }
    return std::stoll(digits);
}

class BenchWorkload : public ::testing::TestWithParam<Workload> {};

TEST_P(BenchWorkload, DocumentIsTheJobThatWorkloadsMdAndPyTorchDescribe) {
    const Workload& w = GetParam();
    const fs::path path = kSource / "bench" / (std::string(w.id) + ".strata.json");
    auto doc = readDocument(path);
    ASSERT_TRUE(doc) << path << ": " << doc.message();

    const GraphAnalysis analysis = analyze(doc->graph);
    for (const auto& p : analysis.problems) ADD_FAILURE() << w.id << ": " << p.message;
    for (const auto& p : trainingProblems(doc->graph)) ADD_FAILURE() << w.id << ": " << p.message;
    EXPECT_EQ(analysis.parameters, w.parameters)
        << w.id << " no longer has PyTorch's parameter count";
    EXPECT_EQ(documentedTotal(readText(kSource / "bench" / "workloads.md"), w.id), w.parameters)
        << "bench/workloads.md's total for " << w.id << " disagrees with the document";

    EXPECT_EQ(doc->training.batchSize, w.batchSize);
    EXPECT_EQ(doc->training.optimizer.name, w.optimizer);
    EXPECT_DOUBLE_EQ(doc->training.optimizer.learningRate, w.learningRate);
    EXPECT_DOUBLE_EQ(doc->training.optimizer.momentum, w.momentum);
    EXPECT_EQ(doc->training.seed, 1234u);
    ASSERT_TRUE(doc->dataset.has_value());
    EXPECT_EQ(doc->dataset->source, "builtin:random");
    EXPECT_EQ(doc->dataset->validationFraction, 0.0) << "every sample trains";
}

INSTANTIATE_TEST_SUITE_P(Bench, BenchWorkload, ::testing::ValuesIn(kWorkloads),
                         [](const auto& info) { return std::string(info.param.id); });

}  // namespace
}  // namespace strata

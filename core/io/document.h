#pragma once
// A Strata document (*.strata.json): the graph, its canvas layout, the dataset binding, training
// settings and, once trained, weights, preprocessing and the training record. docs/model-format.md
// is the reference for the JSON form.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/graph/graph.h"
#include "core/tensor/tensor.h"
#include "core/util/result.h"

namespace strata {

inline constexpr int kFormatVersion = 1;

struct NodeLayout {
    double x = 0, y = 0;  // scene coordinates of the node's top-left corner
    bool operator==(const NodeLayout&) const = default;
};

// Which data feeds the graph. Input nodes take the dataset field named by their `field`
// parameter; loss targets come from input nodes too.
struct DatasetBinding {
    std::string source;  // "builtin:digits", or a file/folder path relative to the document
    std::string format;  // builtin | idx | cifar10 | csv | image_folder | text
    nlohmann::json options = nlohmann::json::object();  // reader options (label column, window...)
    double validationFraction = 0.1;
    double testFraction = 0.0;
    uint64_t splitSeed = 0;
    bool operator==(const DatasetBinding&) const = default;
};

struct OptimizerSettings {
    std::string name = "adam";  // sgd | adam | adamw | rmsprop
    double learningRate = 1e-3;
    double momentum = 0.0;  // sgd, rmsprop
    bool nesterov = false;  // sgd
    double weightDecay = 0.0;
    double beta1 = 0.9, beta2 = 0.999;  // adam, adamw
    double alpha = 0.99;                // rmsprop smoothing
    double eps = 1e-8;
    bool operator==(const OptimizerSettings&) const = default;
};

struct ScheduleSettings {
    std::string kind = "constant";  // constant | step | exponential | cosine
    int64_t stepSize = 1;           // step: epochs between decays
    double gamma = 0.1;             // step, exponential: decay factor
    double minLearningRate = 0.0;   // cosine: floor
    int64_t warmupSteps = 0;        // linear warm-up from 0, any kind
    bool operator==(const ScheduleSettings&) const = default;
};

struct TrainingSettings {
    int64_t epochs = 10;
    int64_t batchSize = 32;
    OptimizerSettings optimizer;
    ScheduleSettings schedule;
    double clipGradNorm = 0.0;  // 0: no clipping
    uint64_t seed = 0;
    int64_t earlyStoppingPatience = 0;  // epochs without validation improvement; 0: off
    std::string device = "auto";
    bool operator==(const TrainingSettings&) const = default;
};

// Weights by node name, then by PyTorch state_dict name within the node ("weight_ih_l0").
using WeightSet = std::map<std::string, std::map<std::string, Tensor>>;

// What must be applied to raw inputs before the model sees them, learned from the training split.
struct Preprocessing {
    // Per input field: x' = (x - mean[c]) / std[c], with c the channel (dim 1 of the batched
    // shape) when the vectors have one entry per channel, else one value for every element.
    struct Normalization {
        std::vector<float> mean, std;
        bool operator==(const Normalization&) const = default;
    };
    std::map<std::string, Normalization> normalization;  // by field name
    std::vector<std::string> vocabulary;  // token id -> text, for token models
    std::vector<std::string> classNames;  // class index -> name, for classifiers
    bool operator==(const Preprocessing&) const = default;
};

struct Document {
    std::string name;
    std::string description;
    Graph graph;
    std::map<std::string, NodeLayout> layout;  // by node name
    std::optional<DatasetBinding> dataset;
    TrainingSettings training;
    std::optional<WeightSet> weights;
    std::optional<Preprocessing> preprocessing;
    nlohmann::json trainingRecord;  // null until trained: settings, per-epoch metrics, device...
};

// Parsing never throws and never crashes on any input: a malformed document is refused with the
// JSON path of the fault and the reason ("/graph/nodes/3/params/kernel_size: must be an integer").
// Older versions are migrated first. The graph is built through GraphEdit; weights are checked
// against the shapes the graph's analysis gives each node.
Result<Document> parseDocument(const nlohmann::json& j);
// The same from the text of a file; a JSON syntax error names the line and column.
Result<Document> parseDocumentText(std::string_view text);
// Reads and parses; the message starts with the path when the file cannot be read.
Result<Document> readDocument(const std::filesystem::path& path);
// The whole content of a file, or why it cannot be read (separate so that the CLI can tell an
// unreadable file, exit 3, from an invalid one, exit 1).
Result<std::string> readTextFile(const std::filesystem::path& path);

// The JSON form. Deterministic: the same document always gives the same JSON. Layout entries and
// weights of nodes that are no longer in the graph, and weights of a node whose parameters changed
// their shapes, are left out so that everything written can be read back.
nlohmann::json toJson(const Document& doc);
// The exact text written to files: keys in a fixed, readable order, two-space indentation.
std::string documentText(const Document& doc);
// Writes to a temporary file beside `path`, then renames it over `path`, so a crash never leaves
// half a document.
Result<void> writeDocument(const Document& doc, const std::filesystem::path& path);

}  // namespace strata

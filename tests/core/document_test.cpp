// Documents: round trips (weights bit-for-bit), every kind of malformed input refused with its JSON
// path, no crash on mutated input, migration from version 0, atomic writes, and the samples.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <set>
#include <sstream>

#include "core/graph/graph_edit.h"
#include "core/graph/shape_inference.h"
#include "core/io/document.h"
#include "core/io/weights_codec.h"
#include "core/layers/registry.h"

namespace strata {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const fs::path kSource = STRATA_SOURCE_DIR;

// input(4) -> linear(3) -> mse against input(3): small enough to spell out in tests.
json smallDoc() {
    return json::parse(R"({
      "format": "strata", "version": 1, "name": "small", "description": "test",
      "graph": {
        "nodes": [
          {"id": "x", "type": "input", "params": {"field": "x", "shape": [4]}},
          {"id": "fc", "type": "linear", "params": {"out_features": 3}},
          {"id": "y", "type": "input", "params": {"field": "y", "shape": [3]}},
          {"id": "loss", "type": "mse"}
        ],
        "links": [
          {"from": "x.out", "to": "fc.in"},
          {"from": "fc.out", "to": "loss.input"},
          {"from": "y.out", "to": "loss.target"}
        ]
      },
      "layout": {"x": {"x": 10, "y": 20}, "fc": {"x": 210.5, "y": 20}},
      "dataset": {"source": "builtin:regression", "format": "builtin"},
      "training": {"epochs": 3, "optimizer": {"name": "sgd", "learning_rate": 0.1}}
    })");
}

std::string weightEntry(std::vector<int64_t> shape, const std::vector<float>& values) {
    json w = {{"dtype", "float32"}, {"shape", shape}, {"encoding", "base64"},
              {"data", io::encodeFloats(values)}};
    return w.dump();
}

json withWeights(json doc) {
    doc["weights"]["fc"]["weight"] = json::parse(weightEntry({3, 4}, std::vector<float>(12, 0.5f)));
    doc["weights"]["fc"]["bias"] = json::parse(weightEntry({3}, {1, 2, 3}));
    return doc;
}

// The message of a refused document, or a failure when it was accepted.
std::string refusal(const json& j) {
    auto doc = parseDocument(j);
    if (doc.ok()) {
        ADD_FAILURE() << "accepted: " << j.dump().substr(0, 300);
        return {};
    }
    return doc.message();
}

bool sameBits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(Document, ReadsTheGraphLayoutDatasetAndTraining) {
    auto doc = parseDocument(smallDoc());
    ASSERT_TRUE(doc.ok()) << doc.message();
    EXPECT_EQ(doc->name, "small");
    EXPECT_EQ(doc->graph.nodes().size(), 4u);
    EXPECT_EQ(doc->graph.links().size(), 3u);
    const Node* fc = doc->graph.nodeByName("fc");
    ASSERT_NE(fc, nullptr);
    EXPECT_EQ(getInt(fc->params, "out_features"), 3);
    EXPECT_TRUE(getBool(fc->params, "bias"));  // default filled in
    EXPECT_TRUE(checkConsistency(doc->graph).ok());
    EXPECT_TRUE(analyze(doc->graph).ok());
    EXPECT_EQ(doc->layout.at("fc").x, 210.5);
    ASSERT_TRUE(doc->dataset.has_value());
    EXPECT_EQ(doc->dataset->source, "builtin:regression");
    EXPECT_EQ(doc->dataset->validationFraction, 0.1);  // default
    EXPECT_EQ(doc->training.epochs, 3);
    EXPECT_EQ(doc->training.batchSize, 32);  // default
    EXPECT_EQ(doc->training.optimizer.name, "sgd");
    EXPECT_EQ(doc->training.optimizer.learningRate, 0.1);
    EXPECT_FALSE(doc->weights.has_value());
    EXPECT_TRUE(doc->trainingRecord.is_null());
}

TEST(Document, RoundTripIsExactIncludingNonFiniteWeights) {
    auto doc = parseDocument(withWeights(smallDoc()));
    ASSERT_TRUE(doc.ok()) << doc.message();
    // Every bit pattern that matters: NaN with a payload, both infinities, -0, denormals.
    std::vector<float> special = {std::numeric_limits<float>::quiet_NaN(),
                                  std::bit_cast<float>(0x7fc12345u),
                                  std::bit_cast<float>(0xffbfffffu),
                                  std::numeric_limits<float>::infinity(),
                                  -std::numeric_limits<float>::infinity(),
                                  -0.0f,
                                  std::numeric_limits<float>::denorm_min(),
                                  std::numeric_limits<float>::max(),
                                  0.1f,
                                  -1.0f / 3.0f,
                                  1e-30f,
                                  123456.789f};
    (*doc->weights)["fc"]["weight"] = Tensor(Shape{3, 4}, special);
    doc->preprocessing = Preprocessing{};
    doc->preprocessing->normalization["x"] = {{0.1f, -2.5f, 3.0f, 1e-7f}, {1.0f, 0.3f, 2.0f, 5.0f}};
    doc->preprocessing->vocabulary = {"a", "b", "\"quoted\"", "\n"};
    doc->preprocessing->classNames = {"zero", "one"};
    doc->trainingRecord = {{"epochs", json::array({{{"epoch", 1}, {"train_loss", 0.25}}})},
                           {"device", "cpu"}};
    doc->dataset->options = {{"window", 16}};
    doc->dataset->splitSeed = 18446744073709551615ull;
    doc->training.device = "vulkan:1";
    doc->training.schedule.kind = "cosine";

    const json first = toJson(*doc);
    auto back = parseDocument(first);
    ASSERT_TRUE(back.ok()) << back.message();
    EXPECT_EQ(toJson(*back), first);
    EXPECT_EQ(documentText(*back), documentText(*doc));
    EXPECT_TRUE(back->graph == doc->graph);
    EXPECT_EQ(back->layout, doc->layout);
    EXPECT_EQ(back->dataset, doc->dataset);
    EXPECT_EQ(back->training, doc->training);
    EXPECT_EQ(back->preprocessing, doc->preprocessing);
    EXPECT_EQ(back->trainingRecord, doc->trainingRecord);
    const Tensor& w = (*back->weights)["fc"]["weight"];
    EXPECT_EQ(w.shape, (Shape{3, 4}));
    EXPECT_TRUE(sameBits(w.data, special)) << "weights changed in the round trip";
    EXPECT_TRUE(sameBits((*back->weights)["fc"]["bias"].data, {1, 2, 3}));
}

TEST(Document, RoundTripOfAGraphBuiltByEditing) {
    Document doc;
    doc.name = "edited";
    GraphEdit e(doc.graph);
    auto x = e.addNode("input", "x", {{"shape", std::vector<int64_t>{8}}});
    auto fc = e.addNode("linear", "", {{"out_features", int64_t{2}}, {"bias", false}});
    auto label = e.addNode("input", "label",
                           {{"shape", std::vector<int64_t>{}}, {"dtype", std::string("int32")},
                            {"field", std::string("label")}});
    auto loss = e.addNode("cross_entropy", "loss", {{"label_smoothing", 0.1}});
    ASSERT_TRUE(x.ok() && fc.ok() && label.ok() && loss.ok());
    ASSERT_TRUE(e.connect({*x, "out"}, {*fc, "in"}).ok());
    ASSERT_TRUE(e.connect({*fc, "out"}, {*loss, "input"}).ok());
    ASSERT_TRUE(e.connect({*label, "out"}, {*loss, "target"}).ok());
    doc.layout["x"] = {1.25, -3.5};
    EXPECT_TRUE(analyze(doc.graph).ok());

    auto back = parseDocument(toJson(doc));
    ASSERT_TRUE(back.ok()) << back.message();
    EXPECT_TRUE(back->graph == doc.graph);
    EXPECT_EQ(back->layout, doc.layout);
    EXPECT_FALSE(back->dataset.has_value());
    EXPECT_EQ(documentText(*back), documentText(doc));
}

TEST(Document, ScalarLabelInputGivesOneValuePerSample) {
    Graph g;
    GraphEdit e(g);
    auto label = e.addNode("input", "label", {{"shape", std::vector<int64_t>{}},
                                              {"dtype", std::string("int32")}});
    ASSERT_TRUE(label.ok()) << label.message();
    auto a = analyze(g);
    const TensorType* t = a.outputType({*label, "out"}, g);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->shape, Shape::batched({}));
    EXPECT_EQ(t->dtype, DType::Int32);
}

TEST(Document, WriterIsDeterministicAndKeepsAReadableKeyOrder) {
    auto doc = parseDocument(withWeights(smallDoc()));
    ASSERT_TRUE(doc.ok()) << doc.message();
    const std::string text = documentText(*doc);
    EXPECT_EQ(text, documentText(*doc));
    EXPECT_EQ(text.find("\"format\""), text.find('"'));  // the first key says what the file is
    EXPECT_LT(text.find("\"version\""), text.find("\"graph\""));
    EXPECT_LT(text.find("\"graph\""), text.find("\"weights\""));
}

TEST(Document, WriterLeavesOutWeightsThatNoLongerFit) {
    auto doc = parseDocument(withWeights(smallDoc()));
    ASSERT_TRUE(doc.ok()) << doc.message();
    // The user changed out_features after training: the old tensors cannot be loaded.
    ASSERT_TRUE(GraphEdit(doc->graph)
                    .setParam(doc->graph.nodeByName("fc")->id, "out_features", int64_t{5})
                    .ok());
    // ... and the loss target no longer matches, which is the graph's problem, not the file's.
    doc->layout["deleted_node"] = {1, 2};
    const json j = toJson(*doc);
    EXPECT_FALSE(j["weights"].contains("fc"));
    EXPECT_FALSE(j["layout"].contains("deleted_node"));
    EXPECT_TRUE(parseDocument(j).ok()) << parseDocument(j).message();
}

struct Malformed {
    const char* what;
    std::function<void(json&)> mutate;
    const char* path;    // the message starts with this
    const char* reason;  // and contains this
};

TEST(Document, RefusesMalformedDocumentsWithThePathAndTheReason) {
    const std::vector<Malformed> cases = {
        {"not an object", [](json& j) { j = json::array(); }, "/:", "JSON object"},
        {"wrong format", [](json& j) { j["format"] = "onnx"; }, "/format:", "not a Strata"},
        {"no format", [](json& j) { j.erase("format"); }, "/:", "missing field 'format'"},
        {"no version", [](json& j) { j.erase("version"); }, "/:", "missing field 'version'"},
        {"version a string", [](json& j) { j["version"] = "1"; }, "/version:",
         "must be an integer"},
        {"newer version", [](json& j) { j["version"] = 2; }, "/version:",
         "was written by a newer Strata (version 2); this one reads up to version 1"},
        {"huge version", [](json& j) { j["version"] = 18446744073709551615ull; }, "/version:",
         "newer Strata"},
        {"negative version", [](json& j) { j["version"] = -1; }, "/version:",
         "not a Strata version"},
        {"unknown top-level field", [](json& j) { j["colour"] = "red"; }, "/colour:",
         "unknown field 'colour'"},
        {"name not a string", [](json& j) { j["name"] = 5; }, "/name:",
         "must be a string, not an integer"},
        {"no graph", [](json& j) { j.erase("graph"); }, "/:", "missing field 'graph'"},
        {"nodes not an array", [](json& j) { j["graph"]["nodes"] = json::object(); },
         "/graph/nodes:", "must be an array"},
        {"node not an object", [](json& j) { j["graph"]["nodes"][1] = 7; }, "/graph/nodes/1:",
         "must be an object"},
        {"node without id", [](json& j) { j["graph"]["nodes"][1].erase("id"); },
         "/graph/nodes/1:", "missing field 'id'"},
        {"node id a number", [](json& j) { j["graph"]["nodes"][1]["id"] = 3; },
         "/graph/nodes/1/id:", "must be a string"},
        {"bad node name", [](json& j) { j["graph"]["nodes"][1]["id"] = "1 fc"; },
         "/graph/nodes/1/id:", "not a valid node name"},
        {"duplicate node name", [](json& j) { j["graph"]["nodes"][1]["id"] = "x"; },
         "/graph/nodes/1/id:", "already exists"},
        {"unknown layer type", [](json& j) { j["graph"]["nodes"][1]["type"] = "conv3d"; },
         "/graph/nodes/1/type:", "unknown layer type 'conv3d'; the known types are input, "},
        {"unknown node field", [](json& j) { j["graph"]["nodes"][1]["colour"] = 1; },
         "/graph/nodes/1/colour:", "unknown field"},
        {"params not an object", [](json& j) { j["graph"]["nodes"][1]["params"] = json::array(); },
         "/graph/nodes/1/params:", "must be an object"},
        {"unknown parameter", [](json& j) { j["graph"]["nodes"][1]["params"]["units"] = 3; },
         "/graph/nodes/1/params/units:", "linear has no parameter 'units'; it has out_features"},
        {"parameter of the wrong type",
         [](json& j) { j["graph"]["nodes"][1]["params"]["out_features"] = "3"; },
         "/graph/nodes/1/params/out_features:", "must be an integer, not a string"},
        {"fractional integer parameter",
         [](json& j) { j["graph"]["nodes"][1]["params"]["out_features"] = 2.5; },
         "/graph/nodes/1/params/out_features:", "must be an integer"},
        {"parameter out of range",
         [](json& j) { j["graph"]["nodes"][1]["params"]["out_features"] = 0; },
         "/graph/nodes/1/params/out_features:", "out_features"},
        {"bool parameter given as a number",
         [](json& j) { j["graph"]["nodes"][1]["params"]["bias"] = 1; },
         "/graph/nodes/1/params/bias:", "must be true or false"},
        {"shape element not an integer",
         [](json& j) { j["graph"]["nodes"][0]["params"]["shape"] = json::array({4, "a"}); },
         "/graph/nodes/0/params/shape/1:", "must be an integer"},
        {"enum parameter not a choice",
         [](json& j) { j["graph"]["nodes"][0]["params"]["dtype"] = "float64"; },
         "/graph/nodes/0/params/dtype:", "float64"},
        {"link without to", [](json& j) { j["graph"]["links"][0].erase("to"); },
         "/graph/links/0:", "missing field 'to'"},
        {"link end without a port", [](json& j) { j["graph"]["links"][0]["from"] = "x"; },
         "/graph/links/0/from:", "must name a node and a port"},
        {"link to an unknown node", [](json& j) { j["graph"]["links"][0]["to"] = "nope.in"; },
         "/graph/links/0/to:", "no node named 'nope'"},
        {"link from an unknown port", [](json& j) { j["graph"]["links"][0]["from"] = "x.output"; },
         "/graph/links/0/from:", "input 'x' has no output port 'output'; it has out"},
        {"link to an unknown port", [](json& j) { j["graph"]["links"][1]["to"] = "loss.pred"; },
         "/graph/links/1/to:", "has no input port 'pred'; it has input, target"},
        {"second source on an input",
         [](json& j) { j["graph"]["links"][2]["to"] = "loss.input"; }, "/graph/links/2:",
         "already has a source"},
        {"self loop",
         [](json& j) { j["graph"]["links"][0] = {{"from", "fc.out"}, {"to", "fc.in"}}; },
         "/graph/links/0:", "itself"},
        {"layout of an unknown node", [](json& j) { j["layout"]["ghost"] = {{"x", 1}, {"y", 2}}; },
         "/layout/ghost:", "no node named 'ghost'"},
        {"layout coordinate a string", [](json& j) { j["layout"]["fc"]["x"] = "left"; },
         "/layout/fc/x:", "must be a number"},
        {"dataset without source", [](json& j) { j["dataset"].erase("source"); }, "/dataset:",
         "missing field 'source'"},
        {"unknown dataset format", [](json& j) { j["dataset"]["format"] = "parquet"; },
         "/dataset/format:", "'parquet' is not one of builtin"},
        {"splits leave nothing", [](json& j) {
             j["dataset"]["validation_fraction"] = 0.5;
             j["dataset"]["test_fraction"] = 0.5;
         }, "/dataset/test_fraction:", "leave some data for training"},
        {"negative split seed", [](json& j) { j["dataset"]["split_seed"] = -3; },
         "/dataset/split_seed:", "non-negative integer"},
        {"zero epochs", [](json& j) { j["training"]["epochs"] = 0; }, "/training/epochs:",
         "between 1 and"},
        {"unknown optimizer", [](json& j) { j["training"]["optimizer"]["name"] = "lion"; },
         "/training/optimizer/name:", "'lion' is not one of sgd, adam, adamw, rmsprop"},
        {"negative learning rate",
         [](json& j) { j["training"]["optimizer"]["learning_rate"] = -0.1; },
         "/training/optimizer/learning_rate:", "must be above 0"},
        {"misspelt training field", [](json& j) { j["training"]["batchsize"] = 8; },
         "/training/batchsize:", "unknown field 'batchsize'; expected epochs, batch_size"},
        {"unknown device", [](json& j) { j["training"]["device"] = "tpu"; }, "/training/device:",
         "not a device"},
        {"device without its index", [](json& j) { j["training"]["device"] = "vulkan:"; },
         "/training/device:", "not a device"},
        {"endless device name",
         [](json& j) { j["training"]["device"] = "vulkan:" + std::string(200000, '1'); },
         "/training/device:", "not a device"},
        {"weights of an unknown node",
         [](json& j) { j["weights"]["ghost"] = json::object(); }, "/weights/ghost:",
         "no node named 'ghost'"},
        {"unknown weight name",
         [](json& j) { j["weights"]["fc"]["kernel"] = j["weights"]["fc"]["bias"]; },
         "/weights/fc/kernel:", "linear 'fc' has no weight 'kernel'; it has weight, bias"},
        {"weight of the wrong shape",
         [](json& j) {
             j["weights"]["fc"]["weight"] =
                 json::parse(weightEntry({4, 3}, std::vector<float>(12, 1.0f)));
         },
         "/weights/fc/weight/shape:", "is [4, 3] but linear 'fc' needs [3, 4] for 'weight'"},
        {"weight data of the wrong size",
         [](json& j) { j["weights"]["fc"]["bias"]["data"] = io::encodeFloats({1, 2}); },
         "/weights/fc/bias/data:", "holds 2 float32 values but the shape [3] needs 3"},
        {"a weight missing", [](json& j) { j["weights"]["fc"].erase("bias"); }, "/weights/fc:",
         "misses 'bias' [3]"},
        {"weight data not base64", [](json& j) { j["weights"]["fc"]["bias"]["data"] = "AAA*AAAA"; },
         "/weights/fc/bias/data:", "not valid base64: '*' at offset 3"},
        {"weight data cut short",
         [](json& j) { j["weights"]["fc"]["bias"]["data"] = "AAAAAAA"; },
         "/weights/fc/bias/data:", "not a multiple of 4"},
        {"weight data not whole floats",
         [](json& j) { j["weights"]["fc"]["bias"]["data"] = "AAA="; },
         "/weights/fc/bias/data:", "not a whole number of float32 values"},
        {"weight dtype float16", [](json& j) { j["weights"]["fc"]["bias"]["dtype"] = "float16"; },
         "/weights/fc/bias/dtype:", "not one of float32"},
        {"weight without encoding", [](json& j) { j["weights"]["fc"]["bias"].erase("encoding"); },
         "/weights/fc/bias:", "missing field 'encoding'"},
        {"normalization with zero std",
         [](json& j) {
             j["preprocessing"]["normalization"]["x"] = {{"mean", {0.5}}, {"std", {0.0}}};
         },
         "/preprocessing/normalization/x/std/0:", "must be above 0"},
        {"vocabulary of numbers", [](json& j) { j["preprocessing"]["vocabulary"] = {1, 2}; },
         "/preprocessing/vocabulary/0:", "must be a string"},
        {"training record a list", [](json& j) { j["training_record"] = json::array(); },
         "/training_record:", "must be an object"},
        {"hostile nesting",
         [](json& j) {
             json deep = json::object();
             for (int i = 0; i < 1000; ++i) deep = json::array({deep});
             j["training_record"] = {{"x", deep}};
         },
         "the document nests deeper", "levels"},
    };
    for (const auto& c : cases) {
        json j = withWeights(smallDoc());
        c.mutate(j);
        const std::string message = refusal(j);
        EXPECT_EQ(message.rfind(c.path, 0), 0u) << c.what << ": " << message;
        EXPECT_NE(message.find(c.reason), std::string::npos) << c.what << ": " << message;
    }
}

TEST(Document, GraphProblemsAreNotFileProblems) {
    // A half-built graph is a valid document: the studio saves work in progress.
    json j = smallDoc();
    j["graph"]["links"].erase(0);
    auto doc = parseDocument(j);
    ASSERT_TRUE(doc.ok()) << doc.message();
    EXPECT_FALSE(analyze(doc->graph).ok());
}

TEST(Document, SyntaxErrorsNameTheLineAndColumn) {
    auto doc = parseDocumentText("{\n  \"format\": \"strata\",\n  \"version\": 1,,\n}");
    ASSERT_FALSE(doc.ok());
    EXPECT_NE(doc.message().find("not valid JSON"), std::string::npos) << doc.message();
    EXPECT_NE(doc.message().find("line 3"), std::string::npos) << doc.message();
}

// Truncations and byte mutations of a valid document at many positions: the reader must answer
// every one (accepted or refused with a message) without crashing or throwing.
TEST(Document, NeverCrashesOnTruncatedOrMutatedInput) {
    const std::string text = withWeights(smallDoc()).dump(1);
    int refused = 0, accepted = 0;
    auto feed = [&](const std::string& t) {
        auto doc = parseDocumentText(t);
        if (doc.ok()) {
            ++accepted;
        } else {
            ++refused;
            EXPECT_FALSE(doc.message().empty());
        }
    };
    for (size_t cut = 0; cut < text.size(); cut += 3) feed(text.substr(0, cut));
    std::mt19937 rng(1234);
    const std::string alphabet = "{}[]\",:0123456789-.eE truefalsnul\\/xyz";
    for (int i = 0; i < 3000; ++i) {
        std::string t = text;
        const int edits = 1 + static_cast<int>(rng() % 3);
        for (int k = 0; k < edits; ++k) {
            const size_t pos = rng() % t.size();
            switch (rng() % 3) {
                case 0: t[pos] = alphabet[rng() % alphabet.size()]; break;
                case 1: t.erase(pos, 1 + rng() % 8); break;
                default: t.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
            }
            if (t.empty()) t = "{";
        }
        feed(t);
    }
    // Structure-aware mutations: replace any value of the document with values of other kinds.
    const json base = withWeights(smallDoc());
    const std::vector<json> replacements = {nullptr, 0, -1, 1.5, 1e300, "", "x.y", true,
                                            json::array(), json::object(), json::array({1, "a"}),
                                            18446744073709551615ull};
    std::vector<json::json_pointer> pointers;
    const json flat = base.flatten();
    for (auto it = flat.begin(); it != flat.end(); ++it) {
        json::json_pointer p(it.key());
        while (!p.empty()) {
            pointers.push_back(p);
            p = p.parent_pointer();
        }
    }
    for (const auto& p : pointers) {
        for (const auto& r : replacements) {
            json j = base;
            j[p] = r;
            auto doc = parseDocument(j);
            if (doc.ok()) ++accepted;
            else ++refused;
        }
    }
    EXPECT_GT(refused, 1000);
    EXPECT_GT(accepted, 0);  // harmless edits (inside a string) are still read
}

TEST(Document, VersionZeroLoadsThroughTheMigration) {
    // Version 0 named links "edges" with "source" and "target".
    json v0 = smallDoc();
    v0["version"] = 0;
    json edges = json::array();
    for (const auto& l : v0["graph"]["links"]) {
        edges.push_back({{"source", l["from"]}, {"target", l["to"]}});
    }
    v0["graph"].erase("links");
    v0["graph"]["edges"] = edges;
    auto doc = parseDocument(v0);
    ASSERT_TRUE(doc.ok()) << doc.message();
    EXPECT_EQ(doc->graph.links().size(), 3u);
    EXPECT_TRUE(analyze(doc->graph).ok());
    const json written = toJson(*doc);
    EXPECT_EQ(written["version"], kFormatVersion);
    EXPECT_TRUE(written["graph"].contains("links"));
    EXPECT_FALSE(written["graph"].contains("edges"));

    // A version-0 document that is broken after migration is still refused with a path.
    v0["graph"]["edges"][0]["target"] = "fc.nowhere";
    auto bad = parseDocument(v0);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.message().rfind("/graph/links/0/to:", 0), 0u) << bad.message();
}

class TempDir {
public:
    TempDir() {
        m_path = fs::temp_directory_path() /
                 ("strata_doc_test_" + std::to_string(::getpid()) + "_" +
                  std::to_string(std::random_device{}()));
        fs::create_directories(m_path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(m_path, ec);
    }
    const fs::path& path() const { return m_path; }

private:
    fs::path m_path;
};

TEST(Document, AtomicWriteReplacesTheFileAndLeavesNoTemporary) {
    TempDir dir;
    const fs::path file = dir.path() / "model.strata.json";
    {
        std::ofstream old(file);
        old << "old content";
    }
    auto doc = parseDocument(withWeights(smallDoc()));
    ASSERT_TRUE(doc.ok()) << doc.message();
    ASSERT_TRUE(writeDocument(*doc, file).ok());
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir.path())) {
        names.push_back(e.path().filename().string());
    }
    EXPECT_EQ(names, std::vector<std::string>{"model.strata.json"});
    auto back = readDocument(file);
    ASSERT_TRUE(back.ok()) << back.message();
    EXPECT_EQ(documentText(*back), documentText(*doc));
    auto text = readTextFile(file);
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(*text, documentText(*doc));
}

TEST(Document, WriteIntoAMissingFolderFailsWithASentence) {
    TempDir dir;
    auto doc = parseDocument(smallDoc());
    ASSERT_TRUE(doc.ok());
    auto r = writeDocument(*doc, dir.path() / "no_such_folder" / "m.strata.json");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("cannot write"), std::string::npos) << r.message();
    EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(Document, ReadingAMissingFileNamesIt) {
    auto doc = readDocument("/no/such/file.strata.json");
    ASSERT_FALSE(doc.ok());
    EXPECT_NE(doc.message().find("/no/such/file.strata.json"), std::string::npos);
}

TEST(WeightsCodec, Base64MatchesTheRfcVectors) {
    EXPECT_EQ(io::base64Encode(""), "");
    EXPECT_EQ(io::base64Encode("f"), "Zg==");
    EXPECT_EQ(io::base64Encode("fo"), "Zm8=");
    EXPECT_EQ(io::base64Encode("foo"), "Zm9v");
    EXPECT_EQ(io::base64Encode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(*io::base64Decode("Zm9vYg=="), "foob");
    EXPECT_EQ(*io::base64Decode("Zm9vYmE="), "fooba");
    EXPECT_FALSE(io::base64Decode("Zm9=vYmE").ok());
    EXPECT_FALSE(io::base64Decode("Z===").ok());
    // 1.0f is 0x3f800000, little-endian bytes 00 00 80 3f.
    EXPECT_EQ(io::encodeFloats({1.0f}), "AACAPw==");
    EXPECT_EQ(io::decodeFloats("AACAPw==")->at(0), 1.0f);
}

// ---- the samples and the schema ----

std::vector<fs::path> sampleFiles() {
    std::vector<fs::path> files;
    for (const auto& dir : fs::directory_iterator(kSource / "samples")) {
        const fs::path f = dir.path() / (dir.path().filename().string() + ".strata.json");
        if (fs::exists(f)) files.push_back(f);
    }
    std::sort(files.begin(), files.end());
    return files;
}

json loadJson(const fs::path& p) {
    std::ifstream in(p);
    return json::parse(in);
}

const char* jsonTypeName(const json& v) {
    if (v.is_object()) return "object";
    if (v.is_array()) return "array";
    if (v.is_string()) return "string";
    if (v.is_boolean()) return "boolean";
    if (v.is_number_integer()) return "integer";
    if (v.is_number()) return "number";
    return "null";
}

bool typeMatches(const json& schemaType, const json& v) {
    auto one = [&](const std::string& t) {
        const std::string actual = jsonTypeName(v);
        return t == actual || (t == "number" && actual == "integer");
    };
    if (schemaType.is_string()) return one(schemaType.get<std::string>());
    for (const auto& t : schemaType) {
        if (one(t.get<std::string>())) return true;
    }
    return false;
}

// A structural check of the subset of JSON Schema that docs/strata.schema.json uses: $ref into
// $defs, type, required, properties, additionalProperties (false or a schema), items, enum,
// const, minimum/maximum, minItems. Enough to catch a sample and the schema drifting apart.
void checkAgainst(const json& root, const json& schema, const json& v, const std::string& where,
                  std::vector<std::string>& errors) {
    if (schema.contains("$ref")) {
        const std::string ref = schema["$ref"];
        checkAgainst(root, root.at(json::json_pointer(ref.substr(1))), v, where, errors);
        return;
    }
    if (schema.contains("type") && !typeMatches(schema["type"], v)) {
        errors.push_back(where + ": is " + jsonTypeName(v) + ", schema wants " +
                         schema["type"].dump());
        return;
    }
    if (schema.contains("const") && schema["const"] != v) {
        errors.push_back(where + ": is " + v.dump() + ", schema wants " + schema["const"].dump());
    }
    if (schema.contains("enum")) {
        bool found = false;
        for (const auto& e : schema["enum"]) found = found || e == v;
        if (!found) errors.push_back(where + ": " + v.dump() + " is not in the schema's enum");
    }
    if (v.is_number() && schema.contains("minimum") && v.get<double>() < schema["minimum"]) {
        errors.push_back(where + ": below the schema's minimum");
    }
    if (v.is_number() && schema.contains("maximum") && v.get<double>() > schema["maximum"]) {
        errors.push_back(where + ": above the schema's maximum");
    }
    if (v.is_object()) {
        for (const auto& key : schema.value("required", json::array())) {
            if (!v.contains(key.get<std::string>())) {
                errors.push_back(where + ": misses required '" + key.get<std::string>() + "'");
            }
        }
        const json props = schema.value("properties", json::object());
        for (const auto& [key, value] : v.items()) {
            if (props.contains(key)) {
                checkAgainst(root, props[key], value, where + "/" + key, errors);
            } else if (schema.contains("additionalProperties")) {
                const json& extra = schema["additionalProperties"];
                if (extra.is_boolean() && !extra.get<bool>()) {
                    errors.push_back(where + ": '" + key + "' is not allowed by the schema");
                } else if (extra.is_object()) {
                    checkAgainst(root, extra, value, where + "/" + key, errors);
                }
            }
        }
    }
    if (v.is_array()) {
        if (schema.contains("minItems") && v.size() < schema["minItems"].get<size_t>()) {
            errors.push_back(where + ": fewer items than the schema's minItems");
        }
        if (schema.contains("items")) {
            for (size_t i = 0; i < v.size(); ++i) {
                checkAgainst(root, schema["items"], v[i], where + "/" + std::to_string(i), errors);
            }
        }
    }
}

TEST(Samples, EveryOneIsThereAndValid) {
    const std::vector<std::string> expected = {"char-lstm",    "cifar-convnet",
                                               "digits-cnn",   "lenet5",
                                               "mlp-regression", "reverse-transformer",
                                               "rnn-sequence"};
    std::vector<std::string> found;
    for (const auto& f : sampleFiles()) found.push_back(f.parent_path().filename().string());
    EXPECT_EQ(found, expected);
    for (const auto& f : sampleFiles()) {
        SCOPED_TRACE(f.string());
        EXPECT_TRUE(fs::exists(f.parent_path() / "README.md"));
        auto doc = readDocument(f);
        ASSERT_TRUE(doc.ok()) << doc.message();
        const auto analysis = analyze(doc->graph);
        for (const auto& p : analysis.problems) ADD_FAILURE() << p.message;
        for (const auto& p : trainingProblems(doc->graph)) ADD_FAILURE() << p.message;
        EXPECT_TRUE(doc->dataset.has_value());
        EXPECT_EQ(doc->layout.size(), doc->graph.nodes().size()) << "every node has a place";
    }
}

TEST(Samples, ParameterCountsMatchPyTorch) {
    // Counted by hand from the PyTorch modules of the same layout (see each sample's README).
    const std::map<std::string, int64_t> expected = {
        {"lenet5", 61706},     {"cifar-convnet", 62006}, {"digits-cnn", 6090},
        {"mlp-regression", 430}, {"rnn-sequence", 1690},  {"char-lstm", 243969},
        {"reverse-transformer", 73104}};
    for (const auto& [name, params] : expected) {
        auto doc = readDocument(kSource / "samples" / name / (name + ".strata.json"));
        ASSERT_TRUE(doc.ok()) << doc.message();
        EXPECT_EQ(analyze(doc->graph).parameters, params) << name;
    }
}

TEST(Samples, ValidateAgainstTheSchema) {
    const json schema = loadJson(kSource / "docs" / "strata.schema.json");
    EXPECT_EQ(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    const std::vector<std::string> required = schema["required"];
    for (const char* key : {"format", "version", "graph"}) {
        EXPECT_NE(std::find(required.begin(), required.end(), key), required.end()) << key;
    }
    for (const auto& f : sampleFiles()) {
        std::vector<std::string> errors;
        checkAgainst(schema, schema, loadJson(f), f.filename().string(), errors);
        for (const auto& e : errors) ADD_FAILURE() << e;
    }
    // A written document with every optional section validates too.
    auto doc = parseDocument(withWeights(smallDoc()));
    ASSERT_TRUE(doc.ok());
    doc->preprocessing = Preprocessing{};
    doc->preprocessing->normalization["x"] = {{0.5f}, {2.0f}};
    doc->preprocessing->vocabulary = {"a"};
    doc->preprocessing->classNames = {"cat"};
    doc->trainingRecord = {{"device", "cpu"}};
    std::vector<std::string> errors;
    checkAgainst(schema, schema, toJson(*doc), "written", errors);
    for (const auto& e : errors) ADD_FAILURE() << e;
    // And the checker itself notices a violation.
    json bad = loadJson(sampleFiles().front());
    bad["graph"]["nodes"][0]["id"] = 12;
    errors.clear();
    checkAgainst(schema, schema, bad, "bad", errors);
    EXPECT_FALSE(errors.empty());
}

TEST(Samples, TheWorkedExampleOfTheFormatReferenceReads) {
    std::ifstream in(kSource / "docs" / "model-format.md");
    std::ostringstream s;
    s << in.rdbuf();
    const std::string md = s.str();
    const size_t start = md.find("```json\n");
    ASSERT_NE(start, std::string::npos);
    const size_t end = md.find("```", start + 8);
    auto doc = parseDocumentText(md.substr(start + 8, end - start - 8));
    ASSERT_TRUE(doc.ok()) << doc.message();
    EXPECT_TRUE(analyze(doc->graph).ok());
    EXPECT_TRUE(trainingProblems(doc->graph).empty());
    EXPECT_EQ((*doc->weights)["fc"]["weight"].data, (std::vector<float>{0.5f, -1.0f}));
    EXPECT_EQ((*doc->weights)["fc"]["bias"].data, (std::vector<float>{0.25f}));
}

TEST(Samples, SchemaListsExactlyTheRegisteredLayerTypes) {
    const json schema = loadJson(kSource / "docs" / "strata.schema.json");
    std::set<std::string> listed;
    for (const auto& t : schema["$defs"]["layer_type"]["enum"]) listed.insert(t.get<std::string>());
    std::set<std::string> registered;
    for (const auto& s : LayerRegistry::instance().all()) registered.insert(s.id);
    for (const auto& id : registered) {
        EXPECT_TRUE(listed.count(id)) << "add '" << id << "' to $defs/layer_type in "
                                      << "docs/strata.schema.json";
    }
    for (const auto& id : listed) {
        EXPECT_TRUE(registered.count(id)) << "docs/strata.schema.json lists '" << id
                                          << "' but no layer of that type is registered";
    }
}

}  // namespace
}  // namespace strata

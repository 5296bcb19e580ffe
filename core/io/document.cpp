// Reading and writing *.strata.json documents (docs/model-format.md is the reference).
//
// The reader checks every value's JSON type before touching it (nlohmann throws on mismatches),
// reports the first fault as "<JSON path>: <reason>", and builds the graph through GraphEdit so
// the graph invariants hold exactly as they do after canvas edits.
#include "core/io/document.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <sstream>

#include "core/graph/graph_edit.h"
#include "core/graph/shape_inference.h"
#include "core/io/json_path.h"
#include "core/io/migrations.h"
#include "core/io/weights_codec.h"
#include "core/layers/registry.h"

namespace strata {

namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
using io::JsonPath;

// Thrown only inside this file and caught by parseDocument: it carries the first fault out of the
// nested readers without threading a Result through every line.
struct Fault {
    std::string message;
};

[[noreturn]] void refuse(const JsonPath& p, const std::string& why) {
    throw Fault{p.str() + ": " + why};
}

std::string kindText(const json& j) {
    switch (j.type()) {
        case json::value_t::null: return "null";
        case json::value_t::object: return "an object";
        case json::value_t::array: return "an array";
        case json::value_t::string: return "a string";
        case json::value_t::boolean: return "true/false";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned: return "an integer";
        case json::value_t::number_float: return "a number with a fraction";
        default: return "an unsupported value";
    }
}

std::string numberText(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

std::string joined(const std::vector<std::string>& items) {
    std::string s;
    for (size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + items[i];
    return s;
}

// ---- typed readers of single values ----

const std::string& readString(const json& j, const JsonPath& p) {
    if (!j.is_string()) refuse(p, "must be a string, not " + kindText(j));
    return j.get_ref<const std::string&>();
}

int64_t readInt(const json& j, const JsonPath& p, int64_t min, int64_t max) {
    if (!j.is_number_integer()) refuse(p, "must be an integer, not " + kindText(j));
    if (j.is_number_unsigned() &&
        j.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        refuse(p, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    const auto v = j.get<int64_t>();
    if (v < min || v > max) {
        refuse(p, "is " + std::to_string(v) + " but must be between " + std::to_string(min) +
                      " and " + std::to_string(max));
    }
    return v;
}

uint64_t readUint64(const json& j, const JsonPath& p) {
    if (j.is_number_unsigned()) return j.get<uint64_t>();
    if (j.is_number_integer() && j.get<int64_t>() >= 0) {
        return static_cast<uint64_t>(j.get<int64_t>());
    }
    refuse(p, "must be a non-negative integer, not " +
                  (j.is_number_integer() ? std::to_string(j.get<int64_t>()) : kindText(j)));
}

double readDouble(const json& j, const JsonPath& p, double min, double max, bool minOpen = false) {
    if (!j.is_number()) refuse(p, "must be a number, not " + kindText(j));
    const auto v = j.get<double>();
    if (!std::isfinite(v) || v < min || v > max || (minOpen && v == min)) {
        refuse(p, "is " + numberText(v) + " but must be " + (minOpen ? "above " : "from ") +
                      numberText(min) + (minOpen ? " up to " : " to ") + numberText(max));
    }
    return v;
}

bool readBool(const json& j, const JsonPath& p) {
    if (!j.is_boolean()) refuse(p, "must be true or false, not " + kindText(j));
    return j.get<bool>();
}

std::string readChoice(const json& j, const JsonPath& p, const std::vector<std::string>& choices) {
    const std::string& s = readString(j, p);
    for (const auto& c : choices) {
        if (c == s) return s;
    }
    refuse(p, "'" + s + "' is not one of " + joined(choices));
}

// An object whose fields are taken one by one; finish() refuses any field nobody asked for.
class Fields {
public:
    Fields(const json& j, JsonPath p) : m_j(j), m_p(std::move(p)) {
        if (!j.is_object()) refuse(m_p, "must be an object, not " + kindText(j));
    }

    const JsonPath& path() const { return m_p; }
    JsonPath at(const std::string& key) const { return m_p / key; }

    const json* find(const std::string& key) {
        m_known.push_back(key);
        auto it = m_j.find(key);
        if (it == m_j.end()) return nullptr;
        return &*it;
    }
    const json& require(const std::string& key) {
        const json* v = find(key);
        if (!v) refuse(m_p, "missing field '" + key + "'");
        return *v;
    }

    std::string string(const std::string& key, const std::string& def) {
        const json* v = find(key);
        return v ? readString(*v, at(key)) : def;
    }
    int64_t integer(const std::string& key, int64_t def, int64_t min, int64_t max) {
        const json* v = find(key);
        return v ? readInt(*v, at(key), min, max) : def;
    }
    uint64_t seed(const std::string& key, uint64_t def) {
        const json* v = find(key);
        return v ? readUint64(*v, at(key)) : def;
    }
    double number(const std::string& key, double def, double min, double max,
                  bool minOpen = false) {
        const json* v = find(key);
        return v ? readDouble(*v, at(key), min, max, minOpen) : def;
    }
    bool boolean(const std::string& key, bool def) {
        const json* v = find(key);
        return v ? readBool(*v, at(key)) : def;
    }
    std::string choice(const std::string& key, const std::string& def,
                       const std::vector<std::string>& choices) {
        const json* v = find(key);
        return v ? readChoice(*v, at(key), choices) : def;
    }

    void finish() const {
        for (auto it = m_j.begin(); it != m_j.end(); ++it) {
            bool known = false;
            for (const auto& k : m_known) known = known || k == it.key();
            if (!known) {
                refuse(at(it.key()), "unknown field '" + it.key() + "'; expected " +
                                         joined(m_known));
            }
        }
    }

private:
    const json& m_j;
    JsonPath m_p;
    std::vector<std::string> m_known;
};

// Documents nest a few levels; anything far deeper is corrupt or hostile, and copying it would
// recurse as deep as it goes.
constexpr int kMaxDepth = 64;

void checkDepth(const json& root) {
    struct Item {
        const json* j;
        int depth;
    };
    std::vector<Item> stack{{&root, 0}};
    while (!stack.empty()) {
        Item it = stack.back();
        stack.pop_back();
        if (it.depth > kMaxDepth) {
            throw Fault{"the document nests deeper than " + std::to_string(kMaxDepth) +
                        " levels; it is not a Strata document"};
        }
        if (it.j->is_structured()) {
            for (const auto& child : *it.j) stack.push_back({&child, it.depth + 1});
        }
    }
}

// ---- graph ----

std::vector<std::string> layerIds() {
    std::vector<std::string> ids;
    for (const auto& s : LayerRegistry::instance().all()) ids.push_back(s.id);
    return ids;
}

ParamValue readParam(const json& v, const JsonPath& p, const ParamSpec& spec) {
    auto expected = [&]() -> std::string {
        switch (spec.type) {
            case ParamType::Int: return "an integer";
            case ParamType::Float: return "a number";
            case ParamType::Bool: return "true or false";
            case ParamType::Enum: return "one of " + joined(spec.choices);
            case ParamType::Shape: return "a list of integers";
            case ParamType::String: return "a string";
        }
        return "?";
    };
    ParamValue value;
    switch (spec.type) {
        case ParamType::Int:
            if (v.is_number_integer()) {
                value = readInt(v, p, std::numeric_limits<int64_t>::min(),
                                std::numeric_limits<int64_t>::max());
            } else if (v.is_number_float()) {
                value = v.get<double>();
            } else {
                refuse(p, "must be " + expected() + ", not " + kindText(v));
            }
            break;
        case ParamType::Float:
            if (!v.is_number()) refuse(p, "must be " + expected() + ", not " + kindText(v));
            value = v.get<double>();
            break;
        case ParamType::Bool: value = readBool(v, p); break;
        case ParamType::Enum:
        case ParamType::String:
            if (!v.is_string()) refuse(p, "must be " + expected() + ", not " + kindText(v));
            value = v.get<std::string>();
            break;
        case ParamType::Shape: {
            if (!v.is_array()) refuse(p, "must be " + expected() + ", not " + kindText(v));
            std::vector<int64_t> dims;
            for (size_t i = 0; i < v.size(); ++i) {
                dims.push_back(readInt(v[i], p / i, std::numeric_limits<int64_t>::min(),
                                       std::numeric_limits<int64_t>::max()));
            }
            value = std::move(dims);
            break;
        }
    }
    auto checked = spec.check(value);
    if (!checked) refuse(p, checked.message());
    return *checked;
}

Node readNode(const json& j, const JsonPath& p, uint32_t id) {
    Fields f(j, p);
    Node n;
    n.id = NodeId{id};
    n.name = readString(f.require("id"), f.at("id"));
    if (!isValidNodeName(n.name)) {
        refuse(f.at("id"), "'" + n.name + "' is not a valid node name: use letters, digits, '_' "
                                          "or '-', starting with a letter, at most 64 characters");
    }
    n.type = readString(f.require("type"), f.at("type"));
    const LayerSpec* spec = findLayer(n.type);
    if (!spec) {
        refuse(f.at("type"), "unknown layer type '" + n.type + "'; the known types are " +
                                 joined(layerIds()));
    }
    if (const json* params = f.find("params")) {
        Fields pf(*params, f.at("params"));
        for (const auto& ps : spec->params) {
            if (const json* v = pf.find(ps.name)) {
                n.params[ps.name] = readParam(*v, pf.at(ps.name), ps);
            }
        }
        for (auto it = params->begin(); it != params->end(); ++it) {
            if (!spec->param(it.key())) {
                std::vector<std::string> names;
                for (const auto& ps : spec->params) names.push_back(ps.name);
                refuse(pf.at(it.key()), n.type + " has no parameter '" + it.key() + "'" +
                                            (names.empty() ? std::string("; it takes none")
                                                           : "; it has " + joined(names)));
            }
        }
    }
    f.finish();
    return n;
}

PortRef readEnd(const json& j, const JsonPath& p, const Graph& g, bool output) {
    const std::string& text = readString(j, p);
    const size_t dot = text.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == text.size()) {
        refuse(p, "'" + text + "' must name a node and a port, as in 'conv1." +
                      (output ? "out" : "in") + "'");
    }
    const std::string nodeName = text.substr(0, dot);
    const std::string port = text.substr(dot + 1);
    const Node* n = g.nodeByName(nodeName);
    if (!n) refuse(p, "there is no node named '" + nodeName + "'");
    const LayerSpec* spec = findLayer(n->type);
    std::vector<std::string> ports;
    if (output) {
        for (const auto& ps : spec->outputs) ports.push_back(ps.name);
    } else {
        for (const auto& ps : spec->inputPorts(n->params)) ports.push_back(ps.name);
    }
    if (std::find(ports.begin(), ports.end(), port) == ports.end()) {
        refuse(p, describeNode(*n) + " has no " + (output ? "output" : "input") + " port '" + port +
                      "'; " + (ports.empty() ? std::string("it has none")
                                             : "it has " + joined(ports)));
    }
    return {n->id, port};
}

Graph readGraph(const json& j, const JsonPath& p) {
    Fields f(j, p);
    Graph g;
    GraphEdit edit(g);
    const json& nodes = f.require("nodes");
    if (!nodes.is_array()) refuse(f.at("nodes"), "must be an array, not " + kindText(nodes));
    for (size_t i = 0; i < nodes.size(); ++i) {
        const JsonPath np = f.at("nodes") / i;
        Node n = readNode(nodes[i], np, static_cast<uint32_t>(i + 1));
        if (auto ok = edit.restoreNode(n); !ok) refuse(np / "id", ok.message());
    }
    if (const json* links = f.find("links")) {
        if (!links->is_array()) refuse(f.at("links"), "must be an array, not " + kindText(*links));
        for (size_t i = 0; i < links->size(); ++i) {
            const JsonPath lp = f.at("links") / i;
            Fields lf((*links)[i], lp);
            Link l;
            l.id = LinkId{static_cast<uint32_t>(i + 1)};
            l.from = readEnd(lf.require("from"), lf.at("from"), g, true);
            l.to = readEnd(lf.require("to"), lf.at("to"), g, false);
            lf.finish();
            if (auto ok = edit.restoreLink(l); !ok) refuse(lp, ok.message());
        }
    }
    f.finish();
    return g;
}

std::map<std::string, NodeLayout> readLayout(const json& j, const JsonPath& p, const Graph& g) {
    if (!j.is_object()) refuse(p, "must be an object, not " + kindText(j));
    std::map<std::string, NodeLayout> layout;
    for (auto it = j.begin(); it != j.end(); ++it) {
        const JsonPath np = p / it.key();
        if (!g.nodeByName(it.key())) refuse(np, "there is no node named '" + it.key() + "'");
        Fields f(it.value(), np);
        NodeLayout l;
        const double lim = 1e9;  // scene coordinates; anything larger is a corrupt value
        l.x = readDouble(f.require("x"), f.at("x"), -lim, lim);
        l.y = readDouble(f.require("y"), f.at("y"), -lim, lim);
        f.finish();
        layout[it.key()] = l;
    }
    return layout;
}

const std::vector<std::string> kDatasetFormats = {"builtin", "idx",          "cifar10",
                                                  "csv",     "image_folder", "text"};

DatasetBinding readDataset(const json& j, const JsonPath& p) {
    Fields f(j, p);
    DatasetBinding d;
    d.source = readString(f.require("source"), f.at("source"));
    if (d.source.empty()) refuse(f.at("source"), "must not be empty");
    d.format = readChoice(f.require("format"), f.at("format"), kDatasetFormats);
    if (const json* o = f.find("options")) {
        if (!o->is_object()) refuse(f.at("options"), "must be an object, not " + kindText(*o));
        d.options = *o;
    }
    d.validationFraction = f.number("validation_fraction", d.validationFraction, 0.0, 0.95);
    d.testFraction = f.number("test_fraction", d.testFraction, 0.0, 0.95);
    if (d.validationFraction + d.testFraction >= 1.0) {
        refuse(f.at("test_fraction"), "validation_fraction and test_fraction add up to " +
                                          numberText(d.validationFraction + d.testFraction) +
                                          "; they must leave some data for training");
    }
    d.splitSeed = f.seed("split_seed", d.splitSeed);
    f.finish();
    return d;
}

// auto | cpu | vulkan | vulkan:N (std::regex recurses per character, so it is not used on input
// of unbounded length).
bool isDeviceName(const std::string& d) {
    if (d == "auto" || d == "cpu" || d == "vulkan") return true;
    if (d.rfind("vulkan:", 0) != 0 || d.size() < 8 || d.size() > 10) return false;
    return std::all_of(d.begin() + 7, d.end(), [](char c) { return c >= '0' && c <= '9'; });
}

TrainingSettings readTraining(const json& j, const JsonPath& p) {
    Fields f(j, p);
    TrainingSettings t;
    t.epochs = f.integer("epochs", t.epochs, 1, 1000000);
    t.batchSize = f.integer("batch_size", t.batchSize, 1, 1 << 20);
    if (const json* o = f.find("optimizer")) {
        Fields of(*o, f.at("optimizer"));
        auto& opt = t.optimizer;
        opt.name = of.choice("name", opt.name, {"sgd", "adam", "adamw", "rmsprop"});
        opt.learningRate = of.number("learning_rate", opt.learningRate, 0.0, 10.0, true);
        opt.momentum = of.number("momentum", opt.momentum, 0.0, 0.999999);
        opt.nesterov = of.boolean("nesterov", opt.nesterov);
        opt.weightDecay = of.number("weight_decay", opt.weightDecay, 0.0, 10.0);
        opt.beta1 = of.number("beta1", opt.beta1, 0.0, 0.999999);
        opt.beta2 = of.number("beta2", opt.beta2, 0.0, 0.999999);
        opt.alpha = of.number("alpha", opt.alpha, 0.0, 0.999999);
        opt.eps = of.number("eps", opt.eps, 0.0, 1.0, true);
        of.finish();
    }
    if (const json* s = f.find("schedule")) {
        Fields sf(*s, f.at("schedule"));
        auto& sch = t.schedule;
        sch.kind = sf.choice("kind", sch.kind, {"constant", "step", "exponential", "cosine"});
        sch.stepSize = sf.integer("step_size", sch.stepSize, 1, 1000000);
        sch.gamma = sf.number("gamma", sch.gamma, 0.0, 1.0, true);
        sch.minLearningRate = sf.number("min_learning_rate", sch.minLearningRate, 0.0, 10.0);
        sch.warmupSteps = sf.integer("warmup_steps", sch.warmupSteps, 0, 1000000000);
        sf.finish();
    }
    t.clipGradNorm = f.number("clip_grad_norm", t.clipGradNorm, 0.0, 1e6);
    t.seed = f.seed("seed", t.seed);
    t.earlyStoppingPatience = f.integer("early_stopping_patience", t.earlyStoppingPatience, 0,
                                        1000000);
    t.device = f.string("device", t.device);
    if (!isDeviceName(t.device)) {
        refuse(f.at("device"), "'" + t.device + "' is not a device; use auto, cpu, vulkan or "
                                                "vulkan:N");
    }
    f.finish();
    return t;
}

std::string dimsText(const std::vector<int64_t>& dims) {
    std::string s = "[";
    for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
    return s + "]";
}

Tensor readTensor(const json& j, const JsonPath& p, const WeightSpec* expected,
                  const Node& node) {
    Fields f(j, p);
    readChoice(f.require("dtype"), f.at("dtype"), {"float32"});
    readChoice(f.require("encoding"), f.at("encoding"), {"base64"});
    const json& shape = f.require("shape");
    if (!shape.is_array()) refuse(f.at("shape"), "must be a list of sizes, not " + kindText(shape));
    if (shape.size() > 8) refuse(f.at("shape"), "has more than 8 dimensions");
    std::vector<int64_t> dims;
    int64_t count = 1;
    for (size_t i = 0; i < shape.size(); ++i) {
        dims.push_back(readInt(shape[i], f.at("shape") / i, 1, int64_t{1} << 31));
        count *= dims.back();
        if (count > (int64_t{1} << 31)) refuse(f.at("shape"), "has more than 2^31 elements");
    }
    if (expected && dims != expected->dims) {
        refuse(f.at("shape"), "is " + dimsText(dims) + " but " + describeNode(node) +
                                  " needs " + dimsText(expected->dims) + " for '" +
                                  expected->name + "' with its parameters");
    }
    const std::string& data = readString(f.require("data"), f.at("data"));
    auto values = io::decodeFloats(data);
    if (!values) refuse(f.at("data"), values.message());
    if (static_cast<int64_t>(values->size()) != count) {
        refuse(f.at("data"), "holds " + std::to_string(values->size()) +
                                 " float32 values but the shape " + dimsText(dims) + " needs " +
                                 std::to_string(count));
    }
    f.finish();
    return Tensor(Shape(dims), std::move(*values));
}

// A node either has no entry (it starts from its initialiser) or all its tensors, exactly shaped.
WeightSet readWeights(const json& j, const JsonPath& p, const Graph& g) {
    if (!j.is_object()) refuse(p, "must be an object, not " + kindText(j));
    const GraphAnalysis analysis = analyze(g);
    WeightSet weights;
    for (auto it = j.begin(); it != j.end(); ++it) {
        const JsonPath np = p / it.key();
        const Node* node = g.nodeByName(it.key());
        if (!node) refuse(np, "there is no node named '" + it.key() + "'");
        if (!it.value().is_object()) refuse(np, "must be an object, not " + kindText(it.value()));
        const auto na = analysis.nodes.find(node->id);
        const LayerInfo* info =
            na != analysis.nodes.end() && na->second.info ? &*na->second.info : nullptr;
        auto& tensors = weights[it.key()];
        for (auto w = it.value().begin(); w != it.value().end(); ++w) {
            const WeightSpec* expected = nullptr;
            if (info) {
                std::vector<std::string> names;
                for (const auto& ws : info->weights) {
                    names.push_back(ws.name);
                    if (ws.name == w.key()) expected = &ws;
                }
                if (!expected) {
                    refuse(np / w.key(), describeNode(*node) + " has no weight '" + w.key() +
                                             "'; " + (names.empty() ? std::string("it has none")
                                                                    : "it has " + joined(names)));
                }
            }
            tensors[w.key()] = readTensor(w.value(), np / w.key(), expected, *node);
        }
        if (info) {
            for (const auto& ws : info->weights) {
                if (!tensors.count(ws.name)) {
                    refuse(np, "misses '" + ws.name + "' " + dimsText(ws.dims) + " of " +
                                   describeNode(*node) +
                                   "; give every weight of a node, or leave the node out");
                }
            }
        }
    }
    return weights;
}

std::vector<float> readFloats(const json& j, const JsonPath& p) {
    if (!j.is_array()) refuse(p, "must be a list of numbers, not " + kindText(j));
    std::vector<float> v;
    for (size_t i = 0; i < j.size(); ++i) {
        v.push_back(static_cast<float>(readDouble(j[i], p / i, -3.4e38, 3.4e38)));
    }
    return v;
}

std::vector<std::string> readStrings(const json& j, const JsonPath& p) {
    if (!j.is_array()) refuse(p, "must be a list of strings, not " + kindText(j));
    std::vector<std::string> v;
    for (size_t i = 0; i < j.size(); ++i) v.push_back(readString(j[i], p / i));
    return v;
}

Preprocessing readPreprocessing(const json& j, const JsonPath& p) {
    Fields f(j, p);
    Preprocessing pre;
    if (const json* norm = f.find("normalization")) {
        if (!norm->is_object()) {
            refuse(f.at("normalization"), "must be an object, not " + kindText(*norm));
        }
        for (auto it = norm->begin(); it != norm->end(); ++it) {
            Fields nf(it.value(), f.at("normalization") / it.key());
            Preprocessing::Normalization n;
            n.mean = readFloats(nf.require("mean"), nf.at("mean"));
            n.std = readFloats(nf.require("std"), nf.at("std"));
            if (n.mean.empty()) refuse(nf.at("mean"), "must hold at least one value");
            if (n.std.size() != n.mean.size()) {
                refuse(nf.at("std"), "has " + std::to_string(n.std.size()) +
                                         " values but mean has " + std::to_string(n.mean.size()));
            }
            for (size_t i = 0; i < n.std.size(); ++i) {
                if (!(n.std[i] > 0.0f)) refuse(nf.at("std") / i, "must be above 0");
            }
            nf.finish();
            pre.normalization[it.key()] = std::move(n);
        }
    }
    if (const json* v = f.find("vocabulary")) pre.vocabulary = readStrings(*v, f.at("vocabulary"));
    if (const json* c = f.find("class_names")) {
        pre.classNames = readStrings(*c, f.at("class_names"));
    }
    f.finish();
    return pre;
}

int readVersion(const json& j) {
    const JsonPath root;
    if (!j.is_object()) refuse(root, "a Strata document is a JSON object, not " + kindText(j));
    auto format = j.find("format");
    if (format == j.end()) refuse(root, "missing field 'format'; this is not a Strata document");
    if (!format->is_string() || format->get_ref<const std::string&>() != "strata") {
        refuse(root / "format", "must be \"strata\"; this is not a Strata document");
    }
    auto version = j.find("version");
    if (version == j.end()) refuse(root, "missing field 'version'");
    if (!version->is_number_integer()) {
        refuse(root / "version", "must be an integer, not " + kindText(*version));
    }
    const bool newer = version->is_number_unsigned()
                           ? version->get<uint64_t>() > static_cast<uint64_t>(kFormatVersion)
                           : version->get<int64_t>() > kFormatVersion;
    if (newer) {
        const std::string v = version->is_number_unsigned()
                                  ? std::to_string(version->get<uint64_t>())
                                  : std::to_string(version->get<int64_t>());
        refuse(root / "version", "was written by a newer Strata (version " + v +
                                     "); this one reads up to version " +
                                     std::to_string(kFormatVersion));
    }
    const auto v = version->get<int64_t>();
    if (v < io::oldestReadableVersion()) {
        refuse(root / "version", "version " + std::to_string(v) + " is not a Strata version; " +
                                     "this one reads versions " +
                                     std::to_string(io::oldestReadableVersion()) + " to " +
                                     std::to_string(kFormatVersion));
    }
    return static_cast<int>(v);
}

Document readCurrent(const json& j) {
    const JsonPath root;
    Fields f(j, root);
    f.require("format");
    f.require("version");
    Document doc;
    doc.name = f.string("name", "");
    doc.description = f.string("description", "");
    doc.graph = readGraph(f.require("graph"), f.at("graph"));
    if (const json* l = f.find("layout")) doc.layout = readLayout(*l, f.at("layout"), doc.graph);
    if (const json* d = f.find("dataset"); d && !d->is_null()) {
        doc.dataset = readDataset(*d, f.at("dataset"));
    }
    if (const json* t = f.find("training")) doc.training = readTraining(*t, f.at("training"));
    if (const json* w = f.find("weights"); w && !w->is_null()) {
        doc.weights = readWeights(*w, f.at("weights"), doc.graph);
    }
    if (const json* p = f.find("preprocessing"); p && !p->is_null()) {
        doc.preprocessing = readPreprocessing(*p, f.at("preprocessing"));
    }
    if (const json* r = f.find("training_record"); r && !r->is_null()) {
        if (!r->is_object()) {
            refuse(f.at("training_record"), "must be an object, not " + kindText(*r));
        }
        doc.trainingRecord = *r;
    }
    f.finish();
    return doc;
}

// ---- writer ----

ojson paramJson(const ParamValue& v) {
    struct Visitor {
        ojson operator()(int64_t i) const { return i; }
        ojson operator()(double d) const { return d; }
        ojson operator()(bool b) const { return b; }
        ojson operator()(const std::string& s) const { return s; }
        ojson operator()(const std::vector<int64_t>& dims) const {
            ojson a = ojson::array();
            for (int64_t d : dims) a.push_back(d);
            return a;
        }
    };
    return std::visit(Visitor{}, v);
}

std::string endText(const Graph& g, const PortRef& r) {
    const Node* n = g.node(r.node);
    return (n ? n->name : std::string("?")) + "." + r.port;
}

ojson orderedJson(const Document& doc) {
    const Graph& g = doc.graph;
    ojson out;
    out["format"] = "strata";
    out["version"] = kFormatVersion;
    out["name"] = doc.name;
    out["description"] = doc.description;

    ojson nodes = ojson::array();
    for (const auto& [id, n] : g.nodes()) {
        ojson node;
        node["id"] = n.name;
        node["type"] = n.type;
        ojson params = ojson::object();
        // The spec's order reads best ("out_channels" before "bias"); params are complete.
        if (const LayerSpec* spec = findLayer(n.type)) {
            for (const auto& ps : spec->params) {
                if (auto it = n.params.find(ps.name); it != n.params.end()) {
                    params[ps.name] = paramJson(it->second);
                }
            }
        }
        node["params"] = std::move(params);
        nodes.push_back(std::move(node));
    }
    ojson links = ojson::array();
    for (const auto& [id, l] : g.links()) {
        links.push_back({{"from", endText(g, l.from)}, {"to", endText(g, l.to)}});
    }
    out["graph"] = {{"nodes", std::move(nodes)}, {"links", std::move(links)}};

    ojson layout = ojson::object();
    for (const auto& [name, l] : doc.layout) {
        if (g.nodeByName(name)) layout[name] = {{"x", l.x}, {"y", l.y}};
    }
    out["layout"] = std::move(layout);

    if (doc.dataset) {
        const DatasetBinding& d = *doc.dataset;
        out["dataset"] = {{"source", d.source},
                          {"format", d.format},
                          {"options", d.options.is_object() ? ojson(d.options) : ojson::object()},
                          {"validation_fraction", d.validationFraction},
                          {"test_fraction", d.testFraction},
                          {"split_seed", d.splitSeed}};
    }

    const TrainingSettings& t = doc.training;
    const OptimizerSettings& o = t.optimizer;
    const ScheduleSettings& s = t.schedule;
    out["training"] = {
        {"epochs", t.epochs},
        {"batch_size", t.batchSize},
        {"optimizer",
         {{"name", o.name},
          {"learning_rate", o.learningRate},
          {"momentum", o.momentum},
          {"nesterov", o.nesterov},
          {"weight_decay", o.weightDecay},
          {"beta1", o.beta1},
          {"beta2", o.beta2},
          {"alpha", o.alpha},
          {"eps", o.eps}}},
        {"schedule",
         {{"kind", s.kind},
          {"step_size", s.stepSize},
          {"gamma", s.gamma},
          {"min_learning_rate", s.minLearningRate},
          {"warmup_steps", s.warmupSteps}}},
        {"clip_grad_norm", t.clipGradNorm},
        {"seed", t.seed},
        {"early_stopping_patience", t.earlyStoppingPatience},
        {"device", t.device},
    };

    if (doc.weights) {
        const GraphAnalysis analysis = analyze(g);
        ojson weights = ojson::object();
        for (const auto& [nodeName, tensors] : *doc.weights) {
            const Node* n = g.nodeByName(nodeName);
            if (!n || tensors.empty()) continue;
            // Weights that no longer fit the node would make the file unreadable: leave the node
            // out, and it starts from its initialiser when trained again.
            const auto na = analysis.nodes.find(n->id);
            if (na != analysis.nodes.end() && na->second.info) {
                const auto& specs = na->second.info->weights;
                bool fits = specs.size() == tensors.size();
                for (const auto& ws : specs) {
                    auto it = tensors.find(ws.name);
                    fits = fits && it != tensors.end() && it->second.shape.dims() == ws.dims &&
                           it->second.numel() == product(ws.dims);
                }
                if (!fits) continue;
            }
            ojson node = ojson::object();
            for (const auto& [wname, tensor] : tensors) {
                node[wname] = {{"dtype", "float32"},
                               {"shape", tensor.shape.dims()},
                               {"encoding", "base64"},
                               {"data", io::encodeFloats(tensor.data)}};
            }
            weights[nodeName] = std::move(node);
        }
        out["weights"] = std::move(weights);
    }

    if (doc.preprocessing) {
        const Preprocessing& p = *doc.preprocessing;
        ojson norm = ojson::object();
        for (const auto& [field, n] : p.normalization) {
            norm[field] = {{"mean", n.mean}, {"std", n.std}};
        }
        out["preprocessing"] = {{"normalization", std::move(norm)},
                                {"vocabulary", p.vocabulary},
                                {"class_names", p.classNames}};
    }

    if (doc.trainingRecord.is_object()) out["training_record"] = ojson(doc.trainingRecord);
    return out;
}

std::string errnoText() { return std::strerror(errno); }

}  // namespace

Result<Document> parseDocument(const nlohmann::json& j) {
    try {
        checkDepth(j);
        const int version = readVersion(j);
        if (version == kFormatVersion) return readCurrent(j);
        json migrated = j;
        io::migrate(migrated, version);
        return readCurrent(migrated);
    } catch (const Fault& f) {
        return fail(f.message);
    } catch (const std::bad_alloc&) {
        return fail("the document is too large to load in the memory available");
    } catch (const std::exception& e) {
        // Every value is type-checked before use, so this is a bug in the reader; still a
        // message, never a crash.
        return fail(std::string("the document could not be read: ") + e.what());
    }
}

Result<Document> parseDocumentText(std::string_view text) {
    json j;
    try {
        j = json::parse(text.begin(), text.end());
    } catch (const json::parse_error& e) {
        std::string what = e.what();
        // "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error ..."
        if (auto at = what.find("parse error"); at != std::string::npos) what = what.substr(at);
        return fail("is not valid JSON: " + what);
    } catch (const std::exception& e) {
        return fail(std::string("is not valid JSON: ") + e.what());
    }
    return parseDocument(j);
}

Result<std::string> readTextFile(const std::filesystem::path& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        return fail(path.string() + " is a folder, not a document");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail("cannot open " + path.string() + ": " + errnoText());
    std::ostringstream s;
    s << in.rdbuf();
    if (in.bad()) return fail("cannot read " + path.string() + ": " + errnoText());
    return s.str();
}

Result<Document> readDocument(const std::filesystem::path& path) {
    auto text = readTextFile(path);
    if (!text) return text.error();
    auto doc = parseDocumentText(*text);
    if (!doc) return fail(path.string() + ": " + doc.message());
    return doc;
}

nlohmann::json toJson(const Document& doc) { return json(orderedJson(doc)); }

std::string documentText(const Document& doc) {
    // Invalid UTF-8 in a name becomes U+FFFD instead of an exception.
    return orderedJson(doc).dump(2, ' ', false, ojson::error_handler_t::replace) + "\n";
}

Result<void> writeDocument(const Document& doc, const std::filesystem::path& path) {
    const std::string text = documentText(doc);
    // The temporary file sits beside the target so that the rename stays on one file system and
    // is atomic.
    std::random_device rd;
    const std::filesystem::path tmp =
        path.string() + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return fail("cannot write " + path.string() + ": " + errnoText());
    size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const std::string why = errnoText();
            ::close(fd);
            ::unlink(tmp.c_str());
            return fail("cannot write " + path.string() + ": " + why);
        }
        done += static_cast<size_t>(n);
    }
    // fsync before rename: otherwise a power cut can leave the new name on an empty file.
    const bool synced = ::fsync(fd) == 0;
    const std::string syncWhy = synced ? "" : errnoText();
    if (::close(fd) != 0 || !synced) {
        const std::string why = synced ? errnoText() : syncWhy;
        ::unlink(tmp.c_str());
        return fail("cannot write " + path.string() + ": " + why);
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        ::unlink(tmp.c_str());
        return fail("cannot write " + path.string() + ": " + ec.message());
    }
    return {};
}

}  // namespace strata

#include "core/engine/program.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numbers>

#include "core/engine/cpu_math.h"
#include "core/graph/graph_edit.h"
#include "core/graph/shape_inference.h"
#include "core/layers/registry.h"

namespace strata {

namespace {

// Offsets in every arena are multiples of 64 floats (256 bytes), the largest storage-buffer
// offset alignment Vulkan devices require, so any tensor can be bound on its own.
constexpr int64_t kAlign = 64;
int64_t alignUp(int64_t n) {
    return (n + kAlign - 1) / kAlign * kAlign;
}

uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

struct Builder {
    Program p;

    TensorId add(ProgramTensor t) {
        t.id = TensorId(static_cast<uint32_t>(p.tensors.size() + 1));
        t.batched = t.shape.isBatched();
        t.shape = t.shape.withBatch(p.batch);
        t.numel = t.shape.numel();
        p.tensors.push_back(std::move(t));
        return p.tensors.back().id;
    }
};

}  // namespace

// Largest first, each into the smallest gap that fits among the already placed tensors whose
// lifetimes intersect its own (best-fit: the first gap that fits can be the one a later tensor
// needed, and the arena grows). On W1-W4 this reaches the bound, the most floats alive at one
// schedule position.
void planActivations(Program& p) {
    std::vector<ProgramTensor*> order;
    for (auto& t : p.tensors) {
        if (t.arena == Arena::Activations) order.push_back(&t);
    }
    std::stable_sort(order.begin(), order.end(),
                     [](const ProgramTensor* a, const ProgramTensor* b) {
                         return alignUp(a->numel) > alignUp(b->numel);
                     });
    struct Placed {
        int64_t offset, end;
        int first, last;
    };
    std::vector<Placed> placed;
    int64_t peak = 0, naive = 0;
    for (ProgramTensor* t : order) {
        const int64_t size = alignUp(std::max<int64_t>(t->numel, 1));
        naive += size;
        std::vector<std::pair<int64_t, int64_t>> busy;
        for (const auto& q : placed) {
            if (q.first <= t->lastUse && t->firstUse <= q.last) busy.push_back({q.offset, q.end});
        }
        std::sort(busy.begin(), busy.end());
        int64_t cursor = 0, best = -1, bestGap = 0;
        for (const auto& [off, end] : busy) {
            const int64_t gap = off - cursor;
            if (gap >= size && (best < 0 || gap < bestGap)) {
                best = cursor;
                bestGap = gap;
            }
            cursor = std::max(cursor, end);
        }
        if (best < 0) best = cursor;
        t->offset = best;
        placed.push_back({best, best + size, t->firstUse, t->lastUse});
        peak = std::max(peak, best + size);
    }
    p.activationFloats = peak;
    p.unplannedActivationFloats = naive;
}

int64_t peakLiveActivationFloats(const Program& p) {
    int64_t most = 0;
    for (int pos = 0; pos < std::max(1, p.positions()); ++pos) {
        int64_t live = 0;
        for (const auto& t : p.tensors) {
            if (t.arena == Arena::Activations && t.firstUse <= pos && pos <= t.lastUse) {
                live += alignUp(std::max<int64_t>(t.numel, 1));
            }
        }
        most = std::max(most, live);
    }
    return most;
}

const char* tensorKindName(TensorKind k) {
    switch (k) {
        case TensorKind::Input:
            return "input";
        case TensorKind::Parameter:
            return "parameter";
        case TensorKind::Gradient:
            return "gradient";
        case TensorKind::OptimizerState:
            return "optimizer state";
        case TensorKind::Activation:
            return "activation";
        case TensorKind::Aux:
            return "aux";
        case TensorKind::ActivationGradient:
            return "activation gradient";
        case TensorKind::Loss:
            return "loss";
    }
    return "?";
}

Shape ProgramTensor::shapeAt(int64_t n) const {
    if (!batched) return shape;
    std::vector<int64_t> d = shape.dims();
    d[0] = n;
    return Shape(d);
}

int64_t ProgramTensor::numelAt(int64_t n) const {
    if (!batched || shape.dims()[0] == 0) return numel;
    return numel / shape.dims()[0] * n;
}

std::optional<TensorId> Program::find(const std::string& name) const {
    for (const auto& t : tensors) {
        if (t.name == name) return t.id;
    }
    return std::nullopt;
}

std::optional<TensorId> Program::output(const std::string& node, const std::string& port) const {
    return find(node + "." + port);
}

const InputBinding* Program::input(const std::string& field) const {
    for (const auto& b : inputs) {
        if (b.field == field) return &b;
    }
    return nullptr;
}

int optimizerStateSlots(const OptimizerSettings& o) {
    if (o.name == "adam" || o.name == "adamw") return 2;
    if (o.name == "rmsprop") return o.momentum > 0 ? 2 : 1;
    if (o.name == "sgd") return o.momentum > 0 ? 1 : 0;
    return 0;
}

uint64_t opSeed(uint64_t stepSeed, NodeId node) {
    return splitmix64(stepSeed ^ splitmix64(node.value));
}

Result<Program> compile(const Graph& graph, int64_t batch, const CompileOptions& options) {
    if (batch < 1) return fail("the batch size must be at least 1");
    if (options.training && optimizerStateSlots(options.optimizer) == 0 &&
        options.optimizer.name != "sgd") {
        return fail("unknown optimizer '" + options.optimizer.name +
                    "'; use sgd, adam, adamw or rmsprop");
    }
    GraphAnalysis analysis = analyze(graph);
    if (!analysis.ok()) return fail(analysis.problems.front().message);
    if (options.training) {
        auto problems = trainingProblems(graph);
        if (!problems.empty()) return fail(problems.front().message);
    }
    const auto order = graph.topologicalOrder();

    Builder b;
    Program& p = b.p;
    p.batch = batch;
    p.training = options.training;
    p.optimizer = options.optimizer;

    std::map<std::pair<NodeId, std::string>, TensorId> portTensor;  // output ports
    std::vector<TensorId> trainable, buffers;

    for (NodeId id : *order) {
        const Node& node = *graph.node(id);
        const LayerSpec* spec = findLayer(node.type);
        const LayerInfo& info = *analysis.nodes.at(id).info;
        if (node.type == "input") {
            TensorId t = b.add({.name = node.name + ".out",
                                .kind = TensorKind::Input,
                                .dtype = info.outputs[0].dtype,
                                .shape = info.outputs[0].shape,
                                .node = id,
                                .nodeName = node.name});
            portTensor[{id, "out"}] = t;
            p.inputs.push_back({getString(node.params, "field"), id, t, info.outputs[0].dtype,
                                info.outputs[0].shape.sampleDims()});
            continue;
        }
        ProgramOp op;
        op.node = id;
        op.name = node.name;
        op.spec = spec;
        op.params = node.params;
        op.forwardIndex = static_cast<int>(p.forward.size());
        for (const auto& port : spec->inputPorts(node.params)) {
            const Link* l = graph.linkInto(id, port.name);
            op.inputs.push_back(l ? portTensor.at({l->from.node, l->from.port}) : TensorId{});
        }
        for (size_t k = 0; k < spec->outputs.size(); ++k) {
            const TensorType& tt = info.outputs[k];
            TensorId t = b.add({.name = node.name + "." + spec->outputs[k].name,
                                .kind = spec->isLoss ? TensorKind::Loss : TensorKind::Activation,
                                .dtype = tt.dtype,
                                .shape = tt.shape,
                                .node = id,
                                .nodeName = node.name});
            portTensor[{id, spec->outputs[k].name}] = t;
            op.outputs.push_back(t);
        }
        for (const auto& w : info.weights) {
            TensorId t = b.add({.name = node.name + "." + w.name,
                                .kind = TensorKind::Parameter,
                                .shape = Shape(w.dims),
                                .arena = Arena::Parameters,
                                .node = id,
                                .nodeName = node.name,
                                .weightName = w.name,
                                .trainable = w.trainable,
                                .init = w.init});
            (w.trainable ? trainable : buffers).push_back(t);
            op.weights.push_back(t);
        }
        for (const auto& a : info.aux) {
            TensorId t = b.add({.name = node.name + ".aux:" + a.name,
                                .kind = TensorKind::Aux,
                                .shape = a.shape,
                                .node = id,
                                .nodeName = node.name});
            if (a.name == "attention") p.tensor(t).pinned = true;
            op.aux.push_back(t);
        }
        if (spec->isLoss) {
            p.lossOp = static_cast<int>(p.forward.size());
            p.loss = op.outputs.at(0);
            for (TensorId in : op.inputs) {
                if (in.valid()) p.tensor(in).pinned = true;
            }
        }
        p.forward.push_back(std::move(op));
    }

    // Parameter arena: trainable weights first so the optimizer runs over one prefix.
    int64_t offset = 0;
    for (TensorId t : trainable) {
        p.tensor(t).offset = offset;
        offset += alignUp(p.tensor(t).numel);
    }
    p.trainableFloats = options.training ? offset : 0;
    for (TensorId t : buffers) {
        p.tensor(t).offset = offset;
        offset += alignUp(p.tensor(t).numel);
    }
    p.parameterFloats = offset;
    p.parameters = trainable;
    p.parameters.insert(p.parameters.end(), buffers.begin(), buffers.end());
    if (!options.training) {
        for (TensorId t : trainable) p.tensor(t).trainable = false;
    }

    if (options.training) {
        if (!p.loss.valid()) return fail("the graph has no loss node to train");
        for (TensorId t : trainable) {
            const ProgramTensor& w = p.tensor(t);
            TensorId g = b.add({.name = "grad:" + w.name,
                                .kind = TensorKind::Gradient,
                                .shape = w.shape,
                                .arena = Arena::Gradients,
                                .offset = w.offset,
                                .node = w.node,
                                .nodeName = w.nodeName,
                                .weightName = w.weightName});
            p.tensor(t).gradient = g;
        }
        // A tensor needs a gradient when a trainable weight lies upstream of it.
        std::vector<bool> needs(p.tensors.size() + 1, false);
        for (const auto& op : p.forward) {
            bool n = false;
            for (TensorId in : op.inputs) n = n || (in.valid() && needs[in.value]);
            for (TensorId w : op.weights) n = n || p.tensor(w).trainable;
            for (TensorId out : op.outputs)
                needs[out.value] = n && p.tensor(out).dtype == DType::Float32;
        }
        auto gradOf = [&](TensorId t) {
            ProgramTensor& x = p.tensor(t);
            if (!x.gradient.valid()) {
                // Batched again so that add() derives the same concrete shape.
                const Shape shape = x.batched ? x.shapeAt(Shape::kBatch) : x.shape;
                TensorId gid = b.add({.name = "grad:" + x.name,
                                      .kind = TensorKind::ActivationGradient,
                                      .shape = shape,
                                      .node = x.node,
                                      .nodeName = x.nodeName});
                p.tensor(t).gradient = gid;
            }
            return p.tensor(t).gradient;
        };
        for (auto it = p.forward.rbegin(); it != p.forward.rend(); ++it) {
            const ProgramOp& f = *it;
            if (f.outputs.empty() || !needs[f.outputs[0].value]) continue;
            ProgramOp op = f;
            for (TensorId out : f.outputs) op.gradOutputs.push_back(gradOf(out));
            for (TensorId in : f.inputs) {
                op.gradInputs.push_back(in.valid() && needs[in.value] ? gradOf(in) : TensorId{});
            }
            for (TensorId w : f.weights) op.gradWeights.push_back(p.tensor(w).gradient);
            p.backward.push_back(std::move(op));
        }
        if (p.tensor(p.loss).gradient.valid()) {
            p.lossGradient = p.tensor(p.loss).gradient;
            p.tensor(p.lossGradient).pinned = true;
        }
        const int slots = optimizerStateSlots(options.optimizer);
        static const char* adamNames[] = {"exp_avg", "exp_avg_sq"};
        for (int s = 0; s < slots; ++s) {
            std::string name = options.optimizer.name == "rmsprop"
                                   ? (s == 0 ? "square_avg" : "momentum_buffer")
                               : options.optimizer.name == "sgd" ? "momentum_buffer"
                                                                 : adamNames[s];
            TensorId t = b.add({.name = "optimizer:" + name,
                                .kind = TensorKind::OptimizerState,
                                .shape = Shape{p.trainableFloats},
                                .arena = Arena::OptimizerState,
                                .offset = s * p.trainableFloats});
            p.optimizerState.push_back(t);
        }
    }

    // Lifetimes over the schedule: forward op i at position i, backward op j at F + j.
    const int F = static_cast<int>(p.forward.size());
    const int last = std::max(0, p.positions() - 1);
    for (auto& t : p.tensors) {
        t.firstUse = last + 1;
        t.lastUse = -1;
    }
    auto use = [&](TensorId t, int pos) {
        if (!t.valid()) return;
        ProgramTensor& x = p.tensor(t);
        x.firstUse = std::min(x.firstUse, pos);
        x.lastUse = std::max(x.lastUse, pos);
    };
    for (int i = 0; i < F; ++i) {
        const ProgramOp& op = p.forward[static_cast<size_t>(i)];
        for (TensorId t : op.inputs) use(t, i);
        for (TensorId t : op.outputs) use(t, i);
        for (TensorId t : op.aux) use(t, i);
    }
    for (int j = 0; j < static_cast<int>(p.backward.size()); ++j) {
        const ProgramOp& op = p.backward[static_cast<size_t>(j)];
        for (const auto* list :
             {&op.inputs, &op.outputs, &op.aux, &op.gradOutputs, &op.gradInputs}) {
            for (TensorId t : *list) use(t, F + j);
        }
    }
    for (const std::string& name : options.keep) {
        auto t = p.find(name);
        if (!t) return fail("there is no tensor named '" + name + "' to keep");
        p.tensor(*t).pinned = true;
    }
    for (auto& t : p.tensors) {
        if (t.arena != Arena::Activations) continue;
        if (t.kind == TensorKind::Input || t.kind == TensorKind::Loss) t.pinned = true;
        if (t.pinned || t.lastUse < 0) {
            t.firstUse = 0;
            t.lastUse = last;
        }
    }
    // Each activation gradient is cleared right before the first backward op that touches it.
    for (auto& t : p.tensors) {
        if (t.kind != TensorKind::ActivationGradient || t.id == p.lossGradient) continue;
        int first = p.positions();
        for (int j = 0; j < static_cast<int>(p.backward.size()); ++j) {
            const ProgramOp& op = p.backward[static_cast<size_t>(j)];
            auto has = [&](const std::vector<TensorId>& v) {
                return std::find(v.begin(), v.end(), t.id) != v.end();
            };
            if (has(op.gradInputs) || has(op.gradOutputs)) {
                first = j;
                break;
            }
        }
        if (first < static_cast<int>(p.backward.size())) {
            p.backward[static_cast<size_t>(first)].zeroBefore.push_back(t.id);
        }
    }
    planActivations(p);
    return std::move(b.p);
}

std::vector<float> initialParameters(const Program& p, uint64_t seed) {
    std::vector<float> arena(static_cast<size_t>(p.parameterFloats), 0.0f);
    for (TensorId id : p.parameters) {
        const ProgramTensor& t = p.tensor(id);
        const Init& init = t.init;
        float* dst = arena.data() + t.offset;
        // Keyed by name, so the same weight starts the same in any compiled variant.
        uint64_t nameHash = 1469598103934665603ull;
        for (char c : t.name) nameHash = (nameHash ^ static_cast<uint8_t>(c)) * 1099511628211ull;
        const uint64_t s = splitmix64(seed ^ nameHash);
        const int64_t n = t.numel;
        switch (init.kind) {
            case Init::Kind::Zeros:
                std::fill(dst, dst + n, 0.0f);
                break;
            case Init::Kind::Ones:
                std::fill(dst, dst + n, 1.0f);
                break;
            case Init::Kind::Uniform:
                for (int64_t i = 0; i < n; ++i) {
                    const double u = cpu::uniform01(s, static_cast<uint64_t>(i));
                    dst[i] = static_cast<float>(init.a + (init.b - init.a) * u);
                }
                break;
            case Init::Kind::Normal:
                for (int64_t i = 0; i < n; ++i) {
                    // Box-Muller from two independent counters; 1 - u keeps log away from 0.
                    const double u1 = 1.0 - cpu::uniform01(s, 2 * static_cast<uint64_t>(i));
                    const double u2 = cpu::uniform01(s, 2 * static_cast<uint64_t>(i) + 1);
                    const double z =
                        std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
                    dst[i] = static_cast<float>(init.a + init.b * z);
                }
                break;
            case Init::Kind::Sinusoidal: {
                const int64_t D = t.shape[-1], T = n / std::max<int64_t>(D, 1);
                for (int64_t pos = 0; pos < T; ++pos) {
                    for (int64_t i = 0; i < D; ++i) {
                        const double div = std::pow(10000.0, static_cast<double>(i - i % 2) / D);
                        dst[pos * D + i] = static_cast<float>(i % 2 == 0 ? std::sin(pos / div)
                                                                         : std::cos(pos / div));
                    }
                }
                break;
            }
        }
    }
    return arena;
}

Result<void> loadWeights(const Program& p, const WeightSet& weights, std::vector<float>& arena) {
    arena.resize(static_cast<size_t>(p.parameterFloats), 0.0f);
    for (TensorId id : p.parameters) {
        const ProgramTensor& t = p.tensor(id);
        auto node = weights.find(t.nodeName);
        if (node == weights.end()) continue;
        auto w = node->second.find(t.weightName);
        if (w == node->second.end()) continue;
        if (w->second.shape != t.shape) {
            return fail("weight '" + t.name + "' has shape " + w->second.shape.str() +
                        " but the layer needs " + t.shape.str() +
                        "; the graph changed since these weights were saved");
        }
        std::copy(w->second.data.begin(), w->second.data.end(), arena.begin() + t.offset);
    }
    return {};
}

WeightSet weightsFromArena(const Program& p, const std::vector<float>& arena) {
    WeightSet out;
    for (TensorId id : p.parameters) {
        const ProgramTensor& t = p.tensor(id);
        Tensor w(t.shape);
        std::copy(arena.begin() + t.offset, arena.begin() + t.offset + t.numel, w.data.begin());
        out[t.nodeName][t.weightName] = std::move(w);
    }
    return out;
}

}  // namespace strata

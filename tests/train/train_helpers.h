#pragma once
// Small graphs and data sets shared by the engine and training tests.
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "core/data/tensor_dataset.h"
#include "core/graph/graph_edit.h"

namespace strata::test {

// Polls `cond` every millisecond until it holds (true) or `limit` passes (false).
inline bool waitFor(const std::function<bool()>& cond,
                    std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!cond()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

inline NodeId mustAdd(GraphEdit& e, const std::string& type, const std::string& name,
                      const Params& params = {}) {
    auto id = e.addNode(type, name, params);
    EXPECT_TRUE(id.ok()) << id.message();
    return id.ok() ? *id : NodeId{};
}

inline void mustConnect(GraphEdit& e, NodeId from, const std::string& out, NodeId to,
                        const std::string& in) {
    auto l = e.connect({from, out}, {to, in});
    EXPECT_TRUE(l.ok()) << l.message();
}

// x (N, 1, in) -> fc1 -> act1 (relu) -> fc2 -> loss (cross_entropy against y (N, 1)).
// Samples carry a length-1 sequence axis because an input's shape cannot be empty, and
// cross_entropy takes (N, T, C) logits against (N, T) ids.
inline Graph mlpGraph(int64_t in = 4, int64_t hidden = 16, int64_t classes = 3) {
    Graph g;
    GraphEdit e(g);
    NodeId x = mustAdd(e, "input", "x",
                       {{"field", std::string("x")}, {"shape", std::vector<int64_t>{1, in}}});
    NodeId y = mustAdd(e, "input", "y",
                       {{"field", std::string("y")},
                        {"shape", std::vector<int64_t>{1}},
                        {"dtype", std::string("int32")}});
    NodeId fc1 = mustAdd(e, "linear", "fc1", {{"out_features", hidden}});
    NodeId act = mustAdd(e, "relu", "act1");
    NodeId fc2 = mustAdd(e, "linear", "fc2", {{"out_features", classes}});
    NodeId loss = mustAdd(e, "cross_entropy", "loss");
    mustConnect(e, x, "out", fc1, "in");
    mustConnect(e, fc1, "out", act, "in");
    mustConnect(e, act, "out", fc2, "in");
    mustConnect(e, fc2, "out", loss, "input");
    mustConnect(e, y, "out", loss, "target");
    return g;
}

// Fan-out: h = fc1(x) feeds both fc2 and the mse target, so d loss / d h sums two paths.
inline Graph fanOutGraph() {
    Graph g;
    GraphEdit e(g);
    NodeId x =
        mustAdd(e, "input", "x", {{"field", std::string("x")}, {"shape", std::vector<int64_t>{3}}});
    NodeId fc1 = mustAdd(e, "linear", "fc1", {{"out_features", int64_t{4}}});
    NodeId fc2 = mustAdd(e, "linear", "fc2", {{"out_features", int64_t{4}}});
    NodeId loss = mustAdd(e, "mse", "loss");
    mustConnect(e, x, "out", fc1, "in");
    mustConnect(e, fc1, "out", fc2, "in");
    mustConnect(e, fc2, "out", loss, "input");
    mustConnect(e, fc1, "out", loss, "target");
    return g;
}

// Three classes of points around three centres in `in` dimensions; learnable but not trivial.
inline std::shared_ptr<TensorDataset> blobs(int64_t count, int64_t in = 4, uint32_t seed = 1) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> noise(0.0f, 0.6f);
    Tensor x(Shape{count, 1, in}), y(Shape{count, 1});
    for (int64_t i = 0; i < count; ++i) {
        const int64_t c = i % 3;
        y.data[static_cast<size_t>(i)] = static_cast<float>(c);
        for (int64_t k = 0; k < in; ++k) {
            const float centre = (k % 3 == c) ? 1.5f : -0.5f;
            x.data[static_cast<size_t>(i * in + k)] = centre + noise(rng);
        }
    }
    auto d =
        TensorDataset::create({{"x", std::move(x)}, {"y", std::move(y)}}, {{"y", DType::Int32}});
    EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.message());
    return std::make_shared<TensorDataset>(std::move(*d));
}

}  // namespace strata::test

// GraphEdit: every refusal, and the graph's consistency after each edit and after restoring.
#include <gtest/gtest.h>

#include "core/graph/graph_edit.h"
#include "core/graph/shape_inference.h"

namespace strata {
namespace {

class GraphEditTest : public ::testing::Test {
protected:
    void SetUp() override {
        in = *edit.addNode("input", "x", {{"shape", std::vector<int64_t>{8}}});
        fc = *edit.addNode("linear", "fc1", {{"out_features", int64_t{4}}});
        act = *edit.addNode("relu", "act1");
    }
    void expectConsistent() {
        auto ok = checkConsistency(g);
        EXPECT_TRUE(ok.ok()) << ok.message();
    }
    Graph g;
    GraphEdit edit{g};
    NodeId in, fc, act;
};

TEST_F(GraphEditTest, AddsNodesWithCompleteParametersAndUniqueNames) {
    const Node* n = g.node(fc);
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(std::get<int64_t>(n->params.at("out_features")), 4);
    EXPECT_EQ(std::get<bool>(n->params.at("bias")), true);
    auto second = edit.addNode("linear");
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(g.node(*second)->name, "linear1");
    auto third = edit.addNode("linear");
    EXPECT_EQ(g.node(*third)->name, "linear2");
    expectConsistent();
}

TEST_F(GraphEditTest, RefusesUnknownLayerType) {
    auto r = edit.addNode("convolution");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("unknown layer type 'convolution'"), std::string::npos);
}

TEST_F(GraphEditTest, RefusesDuplicateAndInvalidNames) {
    auto dup = edit.addNode("relu", "fc1");
    ASSERT_FALSE(dup.ok());
    EXPECT_NE(dup.message().find("already exists"), std::string::npos);
    EXPECT_FALSE(edit.addNode("relu", "9lives").ok());
    EXPECT_FALSE(edit.addNode("relu", "has space").ok());
    EXPECT_FALSE(edit.renameNode(act, "fc1").ok());
    EXPECT_TRUE(edit.renameNode(act, "relu_a").ok());
    EXPECT_EQ(g.node(act)->name, "relu_a");
    expectConsistent();
}

TEST_F(GraphEditTest, RefusesUnknownPorts) {
    auto r = edit.connect({in, "output"}, {fc, "in"});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("no output port 'output'"), std::string::npos);
    r = edit.connect({in, "out"}, {fc, "input"});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("no input port 'input'"), std::string::npos);
    EXPECT_TRUE(g.links().empty());
}

TEST_F(GraphEditTest, RefusesASecondSourceOnOneInput) {
    ASSERT_TRUE(edit.connect({in, "out"}, {fc, "in"}).ok());
    auto other = *edit.addNode("input", "y");
    auto r = edit.connect({other, "out"}, {fc, "in"});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("already has a source ('x')"), std::string::npos);
    EXPECT_EQ(g.links().size(), 1u);
    expectConsistent();
}

TEST_F(GraphEditTest, RefusesCyclesAndSelfLoops) {
    ASSERT_TRUE(edit.connect({fc, "out"}, {act, "in"}).ok());
    auto self = edit.connect({act, "out"}, {act, "in"});
    ASSERT_FALSE(self.ok());
    EXPECT_NE(self.message().find("to itself"), std::string::npos);
    auto cycle = edit.connect({act, "out"}, {fc, "in"});
    ASSERT_FALSE(cycle.ok());
    EXPECT_NE(cycle.message().find("cycle"), std::string::npos);
    expectConsistent();
}

TEST_F(GraphEditTest, RefusesParametersOfTheWrongTypeOrOutOfRange) {
    auto wrongType = edit.setParam(fc, "out_features", std::string("ten"));
    ASSERT_FALSE(wrongType.ok());
    EXPECT_NE(wrongType.message().find("must be an integer"), std::string::npos);
    auto range = edit.setParam(fc, "out_features", int64_t{0});
    ASSERT_FALSE(range.ok());
    EXPECT_NE(range.message().find("must be 1 to"), std::string::npos);
    auto unknown = edit.setParam(fc, "units", int64_t{3});
    ASSERT_FALSE(unknown.ok());
    EXPECT_NE(unknown.message().find("no parameter 'units'"), std::string::npos);
    auto onAdd = edit.addNode("linear", "", {{"bias", int64_t{1}}});
    ASSERT_FALSE(onAdd.ok());
    EXPECT_NE(onAdd.message().find("'bias'"), std::string::npos);
    EXPECT_EQ(std::get<int64_t>(g.node(fc)->params.at("out_features")), 4);
    ASSERT_TRUE(edit.setParam(fc, "out_features", int64_t{16}).ok());
    EXPECT_EQ(std::get<int64_t>(g.node(fc)->params.at("out_features")), 16);
}

TEST_F(GraphEditTest, RemoveAndRestoreGiveTheExactGraphBack) {
    ASSERT_TRUE(edit.connect({in, "out"}, {fc, "in"}).ok());
    ASSERT_TRUE(edit.connect({fc, "out"}, {act, "in"}).ok());
    const Graph before = g;
    auto removed = edit.removeNode(fc);
    ASSERT_TRUE(removed.ok());
    EXPECT_EQ(removed->links.size(), 2u);
    EXPECT_TRUE(g.links().empty());
    expectConsistent();
    ASSERT_TRUE(edit.restore(*removed).ok());
    EXPECT_EQ(g, before);
    expectConsistent();
    // Ids handed out after a restore never collide with restored ones.
    auto fresh = edit.addNode("relu");
    ASSERT_TRUE(fresh.ok());
    EXPECT_GT(fresh->value, fc.value);
}

TEST_F(GraphEditTest, DisconnectAndRestoreLink) {
    auto link = *edit.connect({in, "out"}, {fc, "in"});
    auto removed = edit.disconnect(link);
    ASSERT_TRUE(removed.ok());
    EXPECT_TRUE(g.links().empty());
    EXPECT_FALSE(edit.disconnect(link).ok());
    ASSERT_TRUE(edit.restoreLink(*removed).ok());
    EXPECT_EQ(g.link(link)->to.node, fc);
    expectConsistent();
}

TEST_F(GraphEditTest, TopologicalOrderPutsSourcesFirst) {
    ASSERT_TRUE(edit.connect({fc, "out"}, {act, "in"}).ok());
    ASSERT_TRUE(edit.connect({in, "out"}, {fc, "in"}).ok());
    auto order = g.topologicalOrder();
    ASSERT_TRUE(order.has_value());
    auto pos = [&](NodeId id) { return std::find(order->begin(), order->end(), id) - order->begin(); };
    EXPECT_LT(pos(in), pos(fc));
    EXPECT_LT(pos(fc), pos(act));
}

TEST(ShapeInference, PropagatesShapesAndTotals) {
    Graph g;
    GraphEdit e(g);
    auto x = *e.addNode("input", "x", {{"shape", std::vector<int64_t>{1, 4, 4}}});
    auto flat = *e.addNode("flatten", "flat");
    auto fc = *e.addNode("linear", "fc", {{"out_features", int64_t{3}}});
    ASSERT_TRUE(e.connect({x, "out"}, {flat, "in"}).ok());
    ASSERT_TRUE(e.connect({flat, "out"}, {fc, "in"}).ok());
    GraphAnalysis a = analyze(g);
    EXPECT_TRUE(a.ok());
    EXPECT_EQ(a.nodes[fc].info->outputs[0].shape, (Shape{Shape::kBatch, 3}));
    EXPECT_EQ(a.parameters, 16 * 3 + 3);
    EXPECT_EQ(a.nodes[fc].flops, 3 * (2 * 16 + 1));
    EXPECT_EQ(a.activationBytes, 4 * (16 + 16 + 3));
}

TEST(ShapeInference, NamesTheNodeThePortAndWhatArrived) {
    Graph g;
    GraphEdit e(g);
    auto x = *e.addNode("input", "x", {{"shape", std::vector<int64_t>{8}}});
    auto flat = *e.addNode("flatten", "flatten1");
    auto fc = *e.addNode("linear", "fc");
    auto dangling = *e.addNode("relu", "act");
    ASSERT_TRUE(e.connect({x, "out"}, {flat, "in"}).ok());
    ASSERT_TRUE(e.connect({flat, "out"}, {fc, "in"}).ok());
    GraphAnalysis a = analyze(g);
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.nodes[dangling].error,
              "relu 'act' has nothing connected to its input 'in'; wire an output to it");
    EXPECT_TRUE(a.nodes[fc].info.has_value());
    auto problems = trainingProblems(g);
    ASSERT_FALSE(problems.empty());
    EXPECT_NE(problems[0].message.find("no loss node"), std::string::npos);
}

TEST(ShapeInference, ErrorsStopAtTheFirstFaultyNode) {
    Graph g;
    GraphEdit e(g);
    auto x = *e.addNode("input", "tokens", {{"dtype", std::string("int32")}});
    auto act = *e.addNode("relu", "act");
    auto fc = *e.addNode("linear", "fc");
    ASSERT_TRUE(e.connect({x, "out"}, {act, "in"}).ok());
    ASSERT_TRUE(e.connect({act, "out"}, {fc, "in"}).ok());
    GraphAnalysis a = analyze(g);
    ASSERT_EQ(a.problems.size(), 1u);
    EXPECT_EQ(a.problems[0].node, act);
    EXPECT_NE(a.problems[0].message.find("relu 'act' expects float input but 'tokens' gives"),
              std::string::npos)
        << a.problems[0].message;
    EXPECT_FALSE(a.nodes[fc].info.has_value());
    EXPECT_TRUE(a.nodes[fc].error.empty());
}

}  // namespace
}  // namespace strata

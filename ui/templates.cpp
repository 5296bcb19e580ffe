#include "ui/templates.h"

#include "core/graph/graph_edit.h"
#include "ui/node_editor/editor_model.h"

namespace strata::ui {

const std::vector<TemplateInfo>& templates() {
    static const std::vector<TemplateInfo> list = {
        {"mlp", QObject::tr("MLP"), QObject::tr("Two dense layers on 28×28 images")},
        {"lenet5", QObject::tr("LeNet-5"), QObject::tr("The classic convolutional digit classifier")},
        {"char_lstm", QObject::tr("Char LSTM"), QObject::tr("Next-character prediction with an LSTM")},
        {"transformer", QObject::tr("Transformer encoder"), QObject::tr("A two-block Transformer encoder")},
    };
    return list;
}

namespace {

// Adds nodes in a chain; the first failure is kept and later calls do nothing.
class Builder {
public:
    NodeId add(const std::string& type, const std::string& name, Params params = {}) {
        if (!m_error.empty()) return {};
        auto id = GraphEdit(m_doc.graph).addNode(type, name, params);
        if (!id) {
            m_error = id.message();
            return {};
        }
        return *id;
    }
    NodeId chain(NodeId from, const std::string& type, const std::string& name, Params params = {},
                 const std::string& port = "in") {
        NodeId id = add(type, name, std::move(params));
        link(from, id, port);
        return id;
    }
    void link(NodeId from, NodeId to, const std::string& port) {
        if (!m_error.empty()) return;
        auto l = GraphEdit(m_doc.graph).connect({from, "out"}, {to, port});
        if (!l) m_error = l.message();
    }
    Result<Document> finish(const std::string& name, const std::string& description) {
        if (!m_error.empty()) return fail("this template cannot be built: " + m_error);
        m_doc.name = name;
        m_doc.description = description;
        m_doc.layout = autoLayout(m_doc.graph);
        return std::move(m_doc);
    }

private:
    Document m_doc;
    std::string m_error;
};

using Shape1 = std::vector<int64_t>;

}  // namespace

Result<Document> buildTemplate(const QString& id) {
    Builder b;
    if (id == "mlp") {
        NodeId x = b.add("input", "image", {{"field", std::string("image")}, {"shape", Shape1{1, 28, 28}}});
        NodeId f = b.chain(x, "flatten", "flatten1");
        NodeId h = b.chain(f, "linear", "fc1", {{"out_features", int64_t{128}}});
        NodeId r = b.chain(h, "relu", "relu1");
        NodeId o = b.chain(r, "linear", "fc2", {{"out_features", int64_t{10}}});
        NodeId y = b.add("input", "label", {{"field", std::string("label")}, {"shape", Shape1{1}},
                                            {"dtype", std::string("int32")}});
        NodeId loss = b.chain(o, "cross_entropy", "loss", {}, "input");
        b.link(y, loss, "target");
        return b.finish("MLP", "A multilayer perceptron for 28x28 grey images and 10 classes.");
    }
    if (id == "lenet5") {
        NodeId x = b.add("input", "image", {{"field", std::string("image")}, {"shape", Shape1{1, 28, 28}}});
        NodeId c1 = b.chain(x, "conv2d", "conv1", {{"out_channels", int64_t{6}},
                                                    {"kernel_size", int64_t{5}}, {"padding", int64_t{2}}});
        NodeId a1 = b.chain(c1, "relu", "relu1");
        NodeId p1 = b.chain(a1, "max_pool2d", "pool1", {{"kernel_size", int64_t{2}}});
        NodeId c2 = b.chain(p1, "conv2d", "conv2", {{"out_channels", int64_t{16}},
                                                     {"kernel_size", int64_t{5}}});
        NodeId a2 = b.chain(c2, "relu", "relu2");
        NodeId p2 = b.chain(a2, "max_pool2d", "pool2", {{"kernel_size", int64_t{2}}});
        NodeId f = b.chain(p2, "flatten", "flatten1");
        NodeId l1 = b.chain(f, "linear", "fc1", {{"out_features", int64_t{120}}});
        NodeId a3 = b.chain(l1, "relu", "relu3");
        NodeId l2 = b.chain(a3, "linear", "fc2", {{"out_features", int64_t{84}}});
        NodeId a4 = b.chain(l2, "relu", "relu4");
        NodeId l3 = b.chain(a4, "linear", "fc3", {{"out_features", int64_t{10}}});
        NodeId y = b.add("input", "label", {{"field", std::string("label")}, {"shape", Shape1{1}},
                                            {"dtype", std::string("int32")}});
        NodeId loss = b.chain(l3, "cross_entropy", "loss", {}, "input");
        b.link(y, loss, "target");
        return b.finish("LeNet-5", "LeCun et al.'s convolutional network for 28x28 digits.");
    }
    if (id == "char_lstm" || id == "transformer") {
        const int64_t vocab = 96, steps = 32;
        NodeId x = b.add("input", "tokens", {{"field", std::string("tokens")}, {"shape", Shape1{steps}},
                                             {"dtype", std::string("int32")}});
        NodeId e = b.chain(x, "embedding", "embed", {{"num_embeddings", vocab},
                                                     {"embedding_dim", int64_t{64}}});
        NodeId body;
        if (id == "char_lstm") {
            body = b.chain(e, "lstm", "lstm1", {{"hidden_size", int64_t{128}}});
        } else {
            NodeId pe = b.chain(e, "positional_encoding", "position");
            Params block{{"d_model", int64_t{64}}, {"nhead", int64_t{4}},
                         {"dim_feedforward", int64_t{128}}, {"causal", true}};
            NodeId t1 = b.chain(pe, "transformer_encoder_layer", "block1", block);
            body = b.chain(t1, "transformer_encoder_layer", "block2", block);
        }
        NodeId head = b.chain(body, "linear", "head", {{"out_features", vocab}});
        NodeId y = b.add("input", "next", {{"field", std::string("next")}, {"shape", Shape1{steps}},
                                           {"dtype", std::string("int32")}});
        NodeId loss = b.chain(head, "cross_entropy", "loss", {}, "input");
        b.link(y, loss, "target");
        return id == "char_lstm"
                   ? b.finish("Char LSTM", "Predicts the next character of a text, one step ahead.")
                   : b.finish("Transformer", "A causal Transformer encoder over character tokens.");
    }
    return fail("there is no template named '" + id.toStdString() + "'");
}

}  // namespace strata::ui

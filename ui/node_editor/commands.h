#pragma once
// Every canvas edit is exactly one QUndoCommand over GraphEdit (DESIGN.md, house rule 5).
// A command is applied once by EditorModel::push, which refuses it when GraphEdit does; redo and
// undo then replay it with the same ids (GraphEdit::restore*), so undo/redo restore the exact
// graph.
#include <QPointF>
#include <QUndoCommand>
#include <map>
#include <nlohmann/json.hpp>

#include "ui/node_editor/editor_model.h"

namespace strata::ui {

class EditCommand : public QUndoCommand {
public:
    EditCommand(EditorModel* model, const QString& text) : m_model(model) { setText(text); }
    // The first application; on failure the model is untouched.
    Result<void> apply();
    void redo() final;
    void undo() final;

protected:
    virtual Result<void> doRedo() = 0;
    virtual void doUndo() = 0;
    // Only positions change: views need no re-analysis.
    virtual bool layoutOnly() const { return false; }
    void notify();
    Graph& graph() { return m_model->graphForEdit(); }
    EditorModel* m_model;

private:
    bool m_applied = false;
};

class AddNodeCommand : public EditCommand {
public:
    AddNodeCommand(EditorModel* model, const std::string& type, QPointF pos,
                   const std::string& name = {}, const Params& params = {});
    NodeId nodeId() const { return m_node.id; }

protected:
    Result<void> doRedo() override;
    void doUndo() override;

private:
    std::string m_type, m_name;
    Params m_params;
    QPointF m_pos;
    Node m_node;  // once applied: what to restore on redo
};

// Removes nodes (with every link that touches them) and extra links; undo restores them with
// their ids.
class RemoveNodesCommand : public EditCommand {
public:
    RemoveNodesCommand(EditorModel* model, std::vector<NodeId> nodes,
                       std::vector<LinkId> links = {});

protected:
    Result<void> doRedo() override;
    void doUndo() override;

private:
    std::vector<NodeId> m_ids;
    std::vector<LinkId> m_linkIds;
    std::vector<RemovedNode> m_removed;
    std::vector<Link> m_removedLinks;
    std::map<std::string, NodeLayout> m_positions;
};

class ConnectCommand : public EditCommand {
public:
    ConnectCommand(EditorModel* model, PortRef from, PortRef to);
    LinkId linkId() const { return m_link.id; }

protected:
    Result<void> doRedo() override;
    void doUndo() override;

private:
    Link m_link;
};

class DisconnectCommand : public EditCommand {
public:
    DisconnectCommand(EditorModel* model, LinkId id);

protected:
    Result<void> doRedo() override;
    void doUndo() override;

private:
    LinkId m_id;
    Link m_link;
};

class SetParamCommand : public EditCommand {
public:
    // Edits of one parameter with the same mergeKey >= 0 (one typing session in one editor:
    // "1", "12", "128") undo as one step; -1 never merges.
    SetParamCommand(EditorModel* model, NodeId node, std::string param, ParamValue value,
                    int mergeKey = -1);
    int id() const override { return 1; }
    bool mergeWith(const QUndoCommand* other) override;

protected:
    Result<void> doRedo() override;
    void doUndo() override;

private:
    NodeId m_node;
    std::string m_param;
    ParamValue m_old, m_new;
    int m_mergeKey;
};

class RenameCommand : public EditCommand {
public:
    RenameCommand(EditorModel* model, NodeId node, std::string newName);

protected:
    Result<void> doRedo() override;
    void doUndo() override;

private:
    NodeId m_node;
    std::string m_old, m_new;
};

// Moves nodes by name. Pushes with the same gesture number merge, so a drag is one step.
class MoveNodesCommand : public EditCommand {
public:
    struct Move {
        QPointF from, to;
    };
    MoveNodesCommand(EditorModel* model, std::map<std::string, Move> moves, int gesture,
                     const QString& text = {});
    int id() const override { return 2; }
    bool mergeWith(const QUndoCommand* other) override;

protected:
    Result<void> doRedo() override;
    void doUndo() override;
    bool layoutOnly() const override { return true; }

private:
    void nameByCount();
    std::map<std::string, Move> m_moves;
    int m_gesture;
    bool m_namedByCount;  // "Move 2 nodes", kept up to date as the gesture's moves merge in
};

// A fragment of a graph as the clipboard holds it: nodes with params and positions, and the
// links between them (by node name). JSON so that it can travel between windows.
nlohmann::json copyFragment(const EditorModel& model, const std::vector<NodeId>& nodes);

// Adds a fragment: names made unique, internal links kept, positions shifted by `offset`.
class PasteCommand : public EditCommand {
public:
    PasteCommand(EditorModel* model, nlohmann::json fragment, QPointF offset,
                 const QString& text = QStringLiteral("Paste"));
    const std::vector<NodeId>& pasted() const { return m_pastedIds; }

protected:
    Result<void> doRedo() override;
    void doUndo() override;

private:
    Result<void> firstApply();
    nlohmann::json m_fragment;
    QPointF m_offset;
    bool m_done = false;
    std::vector<Node> m_nodes;
    std::vector<Link> m_links;
    std::vector<NodeId> m_pastedIds;
    std::map<std::string, QPointF> m_positions;
};

nlohmann::json paramsToJson(const Params& p);
Result<Params> paramsFromJson(const nlohmann::json& j);

}  // namespace strata::ui

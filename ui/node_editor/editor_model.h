#pragma once
// The document being edited: the core::Document (graph, layout by node name, settings), its
// latest analysis and the undo stack. Views read it; only the undo commands in commands.h change
// the graph or the layout, each through GraphEdit, and they tell the model afterwards so that it
// re-analyses once and every view updates from the same state.
#include <QObject>
#include <QPointF>
#include <QUndoStack>

#include "core/graph/graph_edit.h"
#include "core/graph/shape_inference.h"
#include "core/io/document.h"

namespace strata::ui {

class EditCommand;

class EditorModel : public QObject {
    Q_OBJECT
public:
    explicit EditorModel(QObject* parent = nullptr);

    const Document& document() const { return m_doc; }
    const Graph& graph() const { return m_doc.graph; }
    const GraphAnalysis& analysis() const { return m_analysis; }
    const std::vector<Problem>& trainingIssues() const { return m_training; }
    QUndoStack* undoStack() { return &m_undo; }

    // Replaces the whole document (new, open, restore); clears the undo history.
    void reset(Document doc);
    // The training dashboard's settings: saved with the document, not part of the undo history.
    void setTrainingSettings(const TrainingSettings& settings) { m_doc.training = settings; }

    QPointF position(const std::string& nodeName) const;
    QPointF position(NodeId id) const;

    // Applies the command once; refused commands leave everything untouched, are not pushed and
    // return their reason.
    Result<void> push(EditCommand* cmd);

    // Whether connecting these ports would be accepted by GraphEdit and by the target's shape
    // rule; tried on a copy of the graph.
    Result<void> checkConnection(const PortRef& from, const PortRef& to) const;

    // For EditCommand only.
    Graph& graphForEdit() { return m_doc.graph; }
    void setPosition(const std::string& nodeName, QPointF p);
    void erasePosition(const std::string& nodeName);
    void renamePosition(const std::string& from, const std::string& to);
    void graphEdited();
    void layoutEdited();
    // The dataset binding (a document-level setting); for SetDatasetCommand (ui/data).
    void setDataset(std::optional<DatasetBinding> binding);

signals:
    void documentReset();
    void graphChanged();   // nodes, links, names or params changed; analysis is fresh
    void layoutChanged();  // only positions changed
    void datasetChanged();  // the dataset binding changed

private:
    void reanalyze();
    Document m_doc;
    GraphAnalysis m_analysis;
    std::vector<Problem> m_training;
    QUndoStack m_undo;
};

// Left to right by topological depth: sources in the first column, every node one column right
// of its deepest source.
std::map<std::string, NodeLayout> autoLayout(const Graph& g);

// "1 node", "2 nodes": English plurals without a translation file (tr's %n alone would leave
// "node(s)").
QString countText(int64_t n, const QString& one, const QString& many);

// "1.2 M", "34 k"
QString compactCount(int64_t n);
QString byteText(int64_t bytes);

}  // namespace strata::ui

#pragma once
// Editors for the selected node, generated from its ParamSpecs: a spin box for Int (with the
// spec's range), a float spin box for Float, a combo box for Enum, a check box for Bool and a
// validated line edit for Shape ("1, 28, 28") and String; plus its name, output shapes,
// parameter count and error. Each accepted change is one SetParam command, so the canvas updates
// as you type; a refused value stays in its editor with a red frame and the reason below it.
#include <QWidget>
#include <vector>

#include "core/graph/ids.h"
#include "core/layers/param.h"

class QFormLayout;
class QLabel;
class QLineEdit;

namespace strata::ui {

class EditorModel;

class Inspector : public QWidget {
    Q_OBJECT
public:
    explicit Inspector(EditorModel* model, QWidget* parent = nullptr);

    NodeId node() const { return m_node; }
    void setNode(NodeId id);

    // The editor of a parameter (for tests and keyboard focus), or nullptr.
    QWidget* editor(const std::string& param) const;
    QLineEdit* nameEditor() const { return m_nameEdit; }
    // The refusal shown under a parameter's editor (empty when its value was accepted).
    QString refusal(const std::string& param) const;
    QString shapesText() const;

    // "1, 28, 28" -> {1, 28, 28}
    static Result<std::vector<int64_t>> parseShape(const QString& text);

private:
    struct Field {
        ParamSpec spec;
        QWidget* editor = nullptr;
        QLabel* message = nullptr;
    };
    void rebuild();
    void refresh();
    void submit(Field& f, const Result<ParamValue>& value);
    void showRefusal(Field& f, const QString& reason);
    void submitName();
    Field* field(const std::string& param);

    EditorModel* m_model;
    NodeId m_node;
    std::string m_type;
    QWidget* m_form = nullptr;
    QLabel* m_title = nullptr;
    QLabel* m_doc = nullptr;
    QLineEdit* m_nameEdit = nullptr;
    QLabel* m_nameMessage = nullptr;
    QLabel* m_shapes = nullptr;
    QLabel* m_stats = nullptr;
    QLabel* m_error = nullptr;
    QLabel* m_empty = nullptr;
    std::vector<Field> m_fields;
    std::string m_editing;  // the parameter whose editor is pushing a change right now
    // One typing session in one editor merges into one undo step; it ends when the editor's
    // editing finishes or another node is shown.
    int m_mergeKey = 0;
};

}  // namespace strata::ui

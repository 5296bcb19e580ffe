#pragma once
// The dataset panel (a dock): choose a built-in set or a file/folder (IDX, CIFAR-10, CSV, image
// folder, text), see a preview (image grid with labels, table rows, or a text excerpt), the class
// counts and the split, and bind dataset fields to the graph's input nodes (model inputs and loss
// targets alike: a loss target is an input node feeding a loss's target port).
//
// A new binding is tried first: only a dataset that opens becomes the document's binding (one
// undoable command); a file that cannot be read shows the reason here and the previous binding
// stays. Field choices are `field` parameter edits of the input nodes (SetParamCommand).
#include <QUndoCommand>
#include <QWidget>
#include <functional>
#include <memory>
#include <optional>

#include "core/data/dataset.h"
#include "core/io/document.h"

class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QSpinBox;
class QStackedWidget;
class QTableWidget;

namespace strata::ui {

class EditorModel;

// Replaces the document's dataset binding; undo restores the previous one.
class SetDatasetCommand : public QUndoCommand {
public:
    SetDatasetCommand(EditorModel* model, std::optional<DatasetBinding> binding,
                      const QString& text);
    void redo() override;
    void undo() override;
    int id() const override { return 3; }
    // Consecutive edits of the split (spin boxes) undo as one step.
    bool mergeWith(const QUndoCommand* other) override;

private:
    EditorModel* m_model;
    std::optional<DatasetBinding> m_old, m_new;
    bool m_splitOnly = false;
};

class DatasetPanel : public QWidget {
    Q_OBJECT
public:
    // documentDir: where relative dataset paths resolve (the document's folder).
    DatasetPanel(EditorModel* model, std::function<QString()> documentDir,
                 QWidget* parent = nullptr);
    ~DatasetPanel() override;

    // Tries the source; binds it when it opens, else shows why and keeps the binding.
    Result<void> bindSource(const std::string& source, const std::string& format,
                            nlohmann::json options = nlohmann::json::object());
    Result<void> chooseBuiltin(const QString& name);
    // A file or folder; the format is inferred from it when `format` is empty.
    Result<void> chooseFile(const QString& path, const QString& format = {});

    // The dataset the preview shows (the whole bound set, before the split); null when none.
    std::shared_ptr<const Dataset> dataset() const { return m_dataset; }

    QComboBox* builtinBox() const { return m_builtin; }
    QComboBox* formatBox() const { return m_format; }
    QLabel* errorLabel() const { return m_error; }
    QLabel* summaryLabel() const { return m_summary; }
    QLabel* classCountsLabel() const { return m_counts; }
    QLabel* splitLabel() const { return m_splitText; }
    QListWidget* imageGrid() const { return m_images; }
    QTableWidget* table() const { return m_table; }
    QPlainTextEdit* textPreview() const { return m_text; }
    QStackedWidget* preview() const { return m_preview; }
    QDoubleSpinBox* validationBox() const { return m_validation; }
    QSpinBox* seedBox() const { return m_seed; }
    // The field chooser of an input node; null when the graph has no such input node.
    QComboBox* bindingBox(const QString& inputNode) const;

    static constexpr int kPreviewImages = 32;
    static constexpr int kPreviewRows = 50;

signals:
    void datasetOpened();  // the preview shows a newly bound or reloaded dataset

private:
    void chooseFileWithDialog(bool folder);
    void loadFromDocument();  // document opened or binding undone: reload the preview
    void showDataset();
    void showError(const QString& text);
    void rebuildBindings();
    void updateSplitText();
    void splitEdited();
    void setSplitWidgets(const DatasetBinding& b);

    EditorModel* m_model;
    std::function<QString()> m_documentDir;
    std::shared_ptr<const Dataset> m_dataset;
    std::optional<DatasetBinding> m_shown;  // the binding m_dataset was opened from
    bool m_updating = false;

    QComboBox* m_builtin;
    QComboBox* m_format;
    QLabel* m_source;
    QLineEdit* m_options;
    QDoubleSpinBox* m_validation;
    QDoubleSpinBox* m_test;
    QSpinBox* m_seed;
    QLabel* m_splitText;
    QLabel* m_error;
    QLabel* m_summary;
    QLabel* m_counts;
    QStackedWidget* m_preview;
    QListWidget* m_images;
    QTableWidget* m_table;
    QPlainTextEdit* m_text;
    QWidget* m_bindingBox;
    QFormLayout* m_bindings;
};

}  // namespace strata::ui

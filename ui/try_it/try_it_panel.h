#pragma once
// "Try it": runs the current trained model (from the last training run in the studio, or an
// imported model) on a validation sample, an image file, a digit drawn with the mouse (1-channel
// image models) or typed text (token models), and shows the top-5 outputs with their
// probabilities as bars; regression models show their raw outputs.
#include <QImage>
#include <QWidget>
#include <functional>
#include <memory>
#include <optional>

#include "core/data/dataset.h"
#include "ui/try_it/model_runner.h"

class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTabWidget;

namespace strata::ui {

class EditorModel;

// A small black square to draw a digit on in white; framed like the training digits and
// downsampled to the model's input size (digit_input.h) when run.
class DigitCanvas : public QWidget {
    Q_OBJECT
public:
    explicit DigitCanvas(QWidget* parent = nullptr);
    void clear();
    bool isBlank() const;
    const QImage& image() const { return m_image; }
    // Draws a stroke through points given in widget coordinates (tests, and the mouse).
    void stroke(const QVector<QPointF>& points);
    QSize sizeHint() const override { return {168, 168}; }

signals:
    void drawn();  // a stroke ended

protected:
    void paintEvent(QPaintEvent*) override;
    void mousePressEvent(QMouseEvent* e) override;
    void mouseMoveEvent(QMouseEvent* e) override;
    void mouseReleaseEvent(QMouseEvent* e) override;
    void resizeEvent(QResizeEvent*) override;

private:
    QPointF toImage(QPointF p) const;
    QImage m_image;  // square, Grayscale8, black background
    QPointF m_last;
    bool m_drawing = false;
};

class TryItPanel : public QWidget {
    Q_OBJECT
public:
    struct Entry {
        int64_t index = 0;  // class or output index
        QString name;       // class name, or the index
        float value = 0;    // probability (classifiers) or raw output
    };

    // documentDir: where the document's relative dataset paths resolve (validation samples).
    TryItPanel(EditorModel* model, std::function<QString()> documentDir,
               QWidget* parent = nullptr);
    ~TryItPanel() override;

    // The model to run; nullopt: none (the panel says how to get one).
    Result<void> setModel(std::optional<TrainedModel> model);
    bool hasModel() const { return m_runner != nullptr; }
    ModelRunner* runner() const { return m_runner.get(); }

    Result<void> runValidationSample(int64_t index);
    Result<void> runImageFile(const QString& path);
    Result<void> runImage(const QImage& image);
    Result<void> runDrawing();
    Result<void> runText(const QString& text);

    // The last run: entries best first (top 5 for classifiers, every output for regressions),
    // the raw model input it was given (before normalisation), and its predicted class.
    const std::vector<Entry>& results() const { return m_results; }
    const std::vector<float>& lastInput() const { return m_lastInput; }
    int64_t predictedClass() const { return m_results.empty() ? -1 : m_results.front().index; }

    DigitCanvas* canvas() const { return m_canvas; }
    QTabWidget* sources() const { return m_tabs; }
    QLabel* messageLabel() const { return m_message; }
    QProgressBar* bar(int i) const { return m_bars[size_t(i)]; }

    static constexpr int kTop = 5;

private:
    Result<void> runFields(std::map<std::string, std::vector<float>> raw, const QString& what);
    Result<std::shared_ptr<const Dataset>> validationData();
    const ModelRunner::Input* imageInput() const;
    const ModelRunner::Input* tokenInput() const;
    void showResults(const std::vector<float>& output, const QString& what);
    void showMessage(const QString& text, bool error);
    void updateTabs();

    EditorModel* m_model;
    std::function<QString()> m_documentDir;
    std::unique_ptr<ModelRunner> m_runner;
    std::string m_origin;
    std::shared_ptr<const Dataset> m_validation;
    std::optional<DatasetBinding> m_validationFrom;
    std::vector<Entry> m_results;
    std::vector<float> m_lastInput;

    QLabel* m_modelLabel;
    QTabWidget* m_tabs;
    QSpinBox* m_sample;
    DigitCanvas* m_canvas;
    QLineEdit* m_textEdit;
    QLabel* m_message;
    QLabel* m_heading;
    std::vector<QLabel*> m_names;
    std::vector<QProgressBar*> m_bars;
    QLabel* m_sequence;
};

}  // namespace strata::ui

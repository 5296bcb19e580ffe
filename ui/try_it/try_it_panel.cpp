#include "ui/try_it/try_it_panel.h"

#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QImageReader>
#include <QLabel>
#include <QLineEdit>
#include <QMouseEvent>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSpinBox>
#include <QTabWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <numeric>

#include "core/data/split.h"
#include "ui/data/image_folder_dataset.h"
#include "ui/node_editor/editor_model.h"
#include "ui/try_it/digit_input.h"

namespace strata::ui {

namespace {

QString q(const std::string& s) { return QString::fromStdString(s); }

constexpr int kRows = 10;  // result rows: the top 5 of a classifier, or up to 10 raw outputs

bool charVocabulary(const std::vector<std::string>& vocabulary) {
    return !vocabulary.empty() &&
           std::all_of(vocabulary.begin(), vocabulary.end(), [](const std::string& v) {
               return QString::fromStdString(v).toUcs4().size() == 1;
           });
}

}  // namespace

// ---- DigitCanvas ----

DigitCanvas::DigitCanvas(QWidget* parent) : QWidget(parent) {
    setObjectName("digitCanvas");
    setMinimumSize(112, 112);
    setCursor(Qt::CrossCursor);
    setToolTip(tr("Draw a digit with the mouse, anywhere and at any size: it is centred and "
                  "scaled like the digits the model learned from"));
    m_image = QImage(168, 168, QImage::Format_Grayscale8);
    m_image.fill(Qt::black);
}

void DigitCanvas::clear() {
    m_image.fill(Qt::black);
    update();
}

bool DigitCanvas::isBlank() const {
    for (int y = 0; y < m_image.height(); ++y) {
        const uchar* row = m_image.constScanLine(y);
        for (int x = 0; x < m_image.width(); ++x) {
            if (row[x]) return false;
        }
    }
    return true;
}

QPointF DigitCanvas::toImage(QPointF p) const {
    const double side = std::min(width(), height());
    return p * (m_image.width() / std::max(1.0, side));
}

void DigitCanvas::stroke(const QVector<QPointF>& points) {
    if (points.isEmpty()) return;
    QPainter painter(&m_image);
    painter.setRenderHint(QPainter::Antialiasing);
    // A sixth of the square: strokes about 1.5 pixels wide at 8x8, like the digits set.
    QPen pen(Qt::white, m_image.width() / 6.0, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin);
    painter.setPen(pen);
    QPointF last = toImage(points.front());
    painter.drawPoint(last);
    for (int i = 1; i < points.size(); ++i) {
        const QPointF p = toImage(points[i]);
        painter.drawLine(last, p);
        last = p;
    }
    update();
}

void DigitCanvas::paintEvent(QPaintEvent*) {
    QPainter p(this);
    const int side = std::min(width(), height());
    p.drawImage(QRect(0, 0, side, side), m_image);
    p.setPen(QColor(0x55, 0x5a, 0x63));
    p.drawRect(0, 0, side - 1, side - 1);
}

void DigitCanvas::mousePressEvent(QMouseEvent* e) {
    if (e->button() != Qt::LeftButton) return;
    m_drawing = true;
    m_last = e->position();
    stroke({m_last});
}

void DigitCanvas::mouseMoveEvent(QMouseEvent* e) {
    if (!m_drawing) return;
    stroke({m_last, e->position()});
    m_last = e->position();
}

void DigitCanvas::mouseReleaseEvent(QMouseEvent* e) {
    if (!m_drawing || e->button() != Qt::LeftButton) return;
    m_drawing = false;
    emit drawn();
}

void DigitCanvas::resizeEvent(QResizeEvent*) { update(); }

// ---- TryItPanel ----

TryItPanel::TryItPanel(EditorModel* model, std::function<QString()> documentDir, QWidget* parent)
    : QWidget(parent), m_model(model), m_documentDir(std::move(documentDir)) {
    setObjectName("tryItPanel");
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(6, 6, 6, 6);
    m_modelLabel = new QLabel;
    m_modelLabel->setObjectName("tryItModel");
    m_modelLabel->setWordWrap(true);
    outer->addWidget(m_modelLabel);

    m_tabs = new QTabWidget;
    m_tabs->setObjectName("tryItSources");
    // Validation sample.
    auto* valPage = new QWidget;
    auto* valOuter = new QVBoxLayout(valPage);
    auto* valRow = new QHBoxLayout;
    valOuter->addLayout(valRow);
    valOuter->addStretch(1);
    valRow->addWidget(new QLabel(tr("Sample")));
    m_sample = new QSpinBox;
    m_sample->setObjectName("tryItSample");
    m_sample->setRange(0, 0);
    valRow->addWidget(m_sample, 1);
    auto* runSample = new QPushButton(tr("Run"));
    runSample->setObjectName("tryItRunSample");
    auto* randomSample = new QPushButton(tr("Random"));
    valRow->addWidget(runSample);
    valRow->addWidget(randomSample);
    m_tabs->addTab(valPage, tr("Validation"));
    // Image file.
    auto* filePage = new QWidget;
    auto* fileRow = new QVBoxLayout(filePage);
    auto* chooseImage = new QPushButton(tr("Choose an image..."));
    chooseImage->setObjectName("tryItImageFile");
    fileRow->addWidget(chooseImage);
    fileRow->addStretch(1);
    m_tabs->addTab(filePage, tr("Image"));
    // Drawing.
    auto* drawPage = new QWidget;
    auto* drawRow = new QHBoxLayout(drawPage);
    m_canvas = new DigitCanvas;
    drawRow->addWidget(m_canvas);
    auto* clear = new QPushButton(tr("Clear"));
    clear->setObjectName("tryItClear");
    auto* drawSide = new QVBoxLayout;
    drawSide->addWidget(clear);
    drawSide->addStretch(1);
    drawRow->addLayout(drawSide);
    m_tabs->addTab(drawPage, tr("Draw"));
    // Text.
    auto* textPage = new QWidget;
    auto* textRow = new QHBoxLayout(textPage);
    m_textEdit = new QLineEdit;
    m_textEdit->setObjectName("tryItText");
    m_textEdit->setPlaceholderText(tr("Type some text and press Enter"));
    auto* runTextButton = new QPushButton(tr("Run"));
    textRow->addWidget(m_textEdit, 1);
    textRow->addWidget(runTextButton);
    m_tabs->addTab(textPage, tr("Text"));
    m_tabs->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Maximum);
    outer->addWidget(m_tabs);

    m_message = new QLabel;
    m_message->setObjectName("tryItMessage");
    m_message->setWordWrap(true);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    outer->addWidget(m_message);
    m_heading = new QLabel;
    outer->addWidget(m_heading);
    auto* grid = new QGridLayout;
    grid->setColumnStretch(1, 1);
    for (int i = 0; i < kRows; ++i) {
        auto* name = new QLabel;
        name->setMinimumWidth(60);
        auto* bar = new QProgressBar;
        bar->setObjectName(QStringLiteral("tryItBar%1").arg(i));
        bar->setRange(0, 1000);
        bar->setTextVisible(true);
        grid->addWidget(name, i, 0);
        grid->addWidget(bar, i, 1);
        m_names.push_back(name);
        m_bars.push_back(bar);
        name->hide();
        bar->hide();
    }
    outer->addLayout(grid);
    m_sequence = new QLabel;
    m_sequence->setObjectName("tryItSequence");
    m_sequence->setWordWrap(true);
    m_sequence->setTextInteractionFlags(Qt::TextSelectableByMouse);
    outer->addWidget(m_sequence);
    outer->addStretch(1);

    auto report = [this](const Result<void>& r) {
        if (!r) showMessage(q(r.message()), true);
    };
    connect(runSample, &QPushButton::clicked, this,
            [this, report] { report(runValidationSample(m_sample->value())); });
    connect(m_sample, &QSpinBox::valueChanged, this, [this, report](int v) {
        if (m_runner) report(runValidationSample(v));
    });
    connect(randomSample, &QPushButton::clicked, this, [this] {
        if (m_sample->maximum() > 0) {
            m_sample->setValue(QRandomGenerator::global()->bounded(m_sample->maximum() + 1));
        }
    });
    connect(chooseImage, &QPushButton::clicked, this, [this, report] {
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Choose an image"), QString(), tr("Images (*.png *.jpg *.jpeg *.bmp)"));
        if (!path.isEmpty()) report(runImageFile(path));
    });
    connect(clear, &QPushButton::clicked, m_canvas, &DigitCanvas::clear);
    connect(m_canvas, &DigitCanvas::drawn, this, [this, report] { report(runDrawing()); });
    connect(runTextButton, &QPushButton::clicked, this,
            [this, report] { report(runText(m_textEdit->text())); });
    connect(m_textEdit, &QLineEdit::returnPressed, this,
            [this, report] { report(runText(m_textEdit->text())); });
    connect(m_model, &EditorModel::datasetChanged, this, [this] { m_validation.reset(); });
    connect(m_model, &EditorModel::documentReset, this, [this] { m_validation.reset(); });
    (void)setModel(std::nullopt);
}

TryItPanel::~TryItPanel() = default;

Result<void> TryItPanel::setModel(std::optional<TrainedModel> model) {
    m_runner.reset();
    m_results.clear();
    m_lastInput.clear();
    showResults({}, {});
    if (!model) {
        m_modelLabel->setText(tr("No trained model yet: train one in the Training dock, or "
                                 "File → Import model..."));
        m_message->clear();
        updateTabs();
        return {};
    }
    auto runner = ModelRunner::create(*model);
    if (!runner) {
        m_modelLabel->setText(tr("The model cannot run: %1").arg(q(runner.message())));
        updateTabs();
        return runner.error();
    }
    m_runner = std::move(*runner);
    m_origin = model->origin;
    QStringList inputs;
    for (const auto& in : m_runner->inputs()) {
        QStringList dims;
        for (int64_t d : in.shape) dims << QString::number(d);
        inputs << QStringLiteral("%1 (%2)").arg(q(in.field), dims.join(", "));
    }
    QString what;
    switch (m_runner->kind()) {
        case ModelRunner::OutputKind::Classes:
            what = tr("%1 classes").arg(m_runner->outputShape().empty()
                                            ? 0
                                            : m_runner->outputShape().back());
            break;
        case ModelRunner::OutputKind::Binary: what = tr("binary outputs"); break;
        case ModelRunner::OutputKind::Raw: what = tr("raw outputs (regression)"); break;
    }
    m_modelLabel->setText(tr("<b>Model</b>: %1 · reads %2 · %3")
                              .arg(q(model->origin), inputs.join(", "), what));
    m_message->clear();
    updateTabs();
    return {};
}

const ModelRunner::Input* TryItPanel::imageInput() const {
    if (!m_runner) return nullptr;
    for (const auto& in : m_runner->inputs()) {
        if (in.dtype != DType::Float32) continue;
        if (in.shape.size() == 3 && (in.shape[0] == 1 || in.shape[0] == 3)) return &in;
        if (in.shape.size() == 2) return &in;
    }
    return nullptr;
}

const ModelRunner::Input* TryItPanel::tokenInput() const {
    if (!m_runner || m_runner->preprocessing().vocabulary.empty()) return nullptr;
    for (const auto& in : m_runner->inputs()) {
        if (in.dtype == DType::Int32 && in.shape.size() == 1) return &in;
    }
    return nullptr;
}

void TryItPanel::updateTabs() {
    const auto* image = imageInput();
    const bool images = image && m_runner->inputs().size() == 1;
    m_tabs->setTabEnabled(0, m_runner != nullptr);
    m_tabs->setTabEnabled(1, images);
    m_tabs->setTabEnabled(2, images && (image->shape.size() == 2 || image->shape[0] == 1));
    m_tabs->setTabEnabled(3, tokenInput() && m_runner->inputs().size() == 1);
    if (!m_tabs->isTabEnabled(m_tabs->currentIndex())) m_tabs->setCurrentIndex(0);
}

void TryItPanel::showMessage(const QString& text, bool error) {
    m_message->setText(text);
    m_message->setStyleSheet(error ? "color: #e04f4f;" : "color: #9aa0aa;");
}

Result<std::shared_ptr<const Dataset>> TryItPanel::validationData() {
    const auto& binding = m_model->document().dataset;
    if (!binding) return fail("no dataset is bound; choose one in the Dataset panel");
    if (m_validation && m_validationFrom == binding) return m_validation;
    const std::string dir = m_documentDir ? m_documentDir().toStdString() : std::string();
    auto splits = openSplits(*binding, dir);
    if (!splits) return fail("the dataset cannot be opened: " + splits.message());
    m_validation = splits->validation && splits->validation->size() > 0 ? splits->validation
                                                                        : splits->train;
    m_validationFrom = binding;
    m_sample->setRange(0, static_cast<int>(std::max<int64_t>(0, m_validation->size() - 1)));
    return m_validation;
}

Result<void> TryItPanel::runValidationSample(int64_t index) {
    if (!m_runner) return fail("there is no trained model to run yet");
    auto data = validationData();
    if (!data) return data.error();
    const Dataset& ds = **data;
    if (index < 0 || index >= ds.size()) {
        return fail("sample " + std::to_string(index) + " is outside the validation split (0 to " +
                    std::to_string(ds.size() - 1) + ")");
    }
    std::map<std::string, std::vector<float>> raw;
    for (const auto& in : m_runner->inputs()) {
        auto field = ds.field(in.field);
        if (!field) {
            return fail("the dataset has no field '" + in.field + "' that the model reads");
        }
        std::vector<float> values(static_cast<size_t>(field->sampleSize()));
        ds.gather(std::span<const int64_t>(&index, 1), in.field, values.data());
        raw[in.field] = std::move(values);
    }
    QString what = tr("validation sample %1").arg(index);
    // The true answer, when the dataset has a class label.
    for (const FieldInfo& f : ds.fields()) {
        if (f.dtype == DType::Int32 && f.shape.empty() && f.numClasses > 0) {
            float label = 0;
            ds.gather(std::span<const int64_t>(&index, 1), f.name, &label);
            const auto names = ds.classNames();
            const auto l = static_cast<size_t>(label);
            what += tr(" (true %1: %2)").arg(q(f.name),
                                             l < names.size() ? q(names[l]) : QString::number(l));
            break;
        }
    }
    // Token inputs read as text, so the output can be compared with them.
    if (const auto* tokens = tokenInput()) {
        const auto& vocabulary = m_runner->preprocessing().vocabulary;
        QStringList words;
        for (float id : raw[tokens->field]) {
            const auto i = static_cast<size_t>(id);
            words << (i < vocabulary.size() ? q(vocabulary[i]) : QStringLiteral("?"));
        }
        what += tr("\nInput: %1").arg(words.join(charVocabulary(vocabulary) ? "" : " "));
    }
    if (m_sample->value() != index) {
        const QSignalBlocker block(m_sample);
        m_sample->setValue(static_cast<int>(index));
    }
    return runFields(std::move(raw), what);
}

Result<void> TryItPanel::runImage(const QImage& image) {
    if (!m_runner) return fail("there is no trained model to run yet");
    const auto* in = imageInput();
    if (!in) return fail("this model does not read images");
    const int c = in->shape.size() == 3 ? int(in->shape[0]) : 1;
    const int h = int(in->shape[in->shape.size() - 2]);
    const int w = int(in->shape.back());
    std::vector<float> values(size_t(c) * size_t(h) * size_t(w));
    imageToTensor(image, c, h, w, values.data());
    return runFields({{in->field, std::move(values)}}, tr("the image"));
}

Result<void> TryItPanel::runImageFile(const QString& path) {
    QImageReader reader(path);
    const QImage image = reader.read();
    if (image.isNull()) {
        return fail(path.toStdString() + ": cannot decode the image (" +
                    reader.errorString().toStdString() + ")");
    }
    auto ok = runImage(image);
    if (ok) showMessage(tr("Image %1").arg(path), false);
    return ok;
}

Result<void> TryItPanel::runDrawing() {
    if (m_canvas->isBlank()) return fail("draw a digit first");
    if (!m_runner) return fail("there is no trained model to run yet");
    const auto* in = imageInput();
    if (!in) return fail("this model does not read images");
    const int c = in->shape.size() == 3 ? int(in->shape[0]) : 1;
    const int h = int(in->shape[in->shape.size() - 2]);
    const int w = int(in->shape.back());
    // Framed like the training digits wherever on the canvas it was drawn, and at whatever size.
    const std::vector<float> plane =
        digitInput(m_canvas->image(), h, w, digitFramingFor(h, w));  // (h, w)
    std::vector<float> values;  // (c, h, w): grey ink on every channel
    values.reserve(plane.size() * size_t(c));
    for (int k = 0; k < c; ++k) values.insert(values.end(), plane.begin(), plane.end());
    auto ok = runFields({{in->field, std::move(values)}}, tr("your drawing"));
    if (ok) showMessage(tr("Your drawing, centred and scaled like the training digits"), false);
    return ok;
}

Result<void> TryItPanel::runText(const QString& text) {
    if (!m_runner) return fail("there is no trained model to run yet");
    const auto* in = tokenInput();
    if (!in) return fail("this model does not read text (no token input with a vocabulary)");
    const auto& vocabulary = m_runner->preprocessing().vocabulary;
    std::map<std::string, int64_t> ids;
    for (size_t i = 0; i < vocabulary.size(); ++i) ids.emplace(vocabulary[i], int64_t(i));
    const bool chars = charVocabulary(vocabulary);
    QStringList tokens;
    if (chars) {
        for (char32_t c : text.toUcs4()) tokens << QString::fromUcs4(&c, 1);
    } else {
        tokens = text.split(QRegularExpression("\\s+"), Qt::SkipEmptyParts);
    }
    if (tokens.isEmpty()) return fail("type some text first");
    std::vector<float> encoded;
    for (const QString& t : tokens) {
        auto it = ids.find(t.toStdString());
        if (it == ids.end()) {
            return fail("\"" + t.toStdString() + "\" is not in the model's vocabulary");
        }
        encoded.push_back(float(it->second));
    }
    const auto length = static_cast<size_t>(in->shape[0]);
    if (encoded.size() > length) encoded.erase(encoded.begin(), encoded.end() - long(length));
    // Characters pad on the left (the last position predicts what follows the text); token
    // sequences pad on the right with id 0, the padding token.
    if (encoded.size() < length) {
        const size_t pad = length - encoded.size();
        if (chars) {
            auto space = ids.find(" ");
            const float fill = space == ids.end() ? 0.f : float(space->second);
            encoded.insert(encoded.begin(), pad, fill);
        } else {
            encoded.insert(encoded.end(), pad, 0.f);
        }
    }
    return runFields({{in->field, std::move(encoded)}}, tr("the text"));
}

Result<void> TryItPanel::runFields(std::map<std::string, std::vector<float>> raw,
                                   const QString& what) {
    m_lastInput.clear();
    for (const auto& [field, v] : raw) m_lastInput.insert(m_lastInput.end(), v.begin(), v.end());
    auto out = m_runner->run(raw);
    if (!out) return out.error();
    showMessage(what, false);
    showResults(*out, what);
    return {};
}

void TryItPanel::showResults(const std::vector<float>& output, const QString& what) {
    (void)what;
    m_results.clear();
    m_sequence->clear();
    for (int i = 0; i < kRows; ++i) {
        m_names[size_t(i)]->hide();
        m_bars[size_t(i)]->hide();
    }
    if (!m_runner || output.empty()) {
        m_heading->clear();
        return;
    }
    const auto& shape = m_runner->outputShape();
    const Preprocessing& pre = m_runner->preprocessing();
    const bool classes = m_runner->kind() == ModelRunner::OutputKind::Classes && !shape.empty();
    if (classes) {
        const auto count = static_cast<size_t>(shape.back());
        const auto& names = pre.classNames.size() == count  ? pre.classNames
                            : pre.vocabulary.size() == count ? pre.vocabulary
                                                             : std::vector<std::string>{};
        auto nameOf = [&](size_t c) {
            return c < names.size() ? q(names[c]) : QString::number(c);
        };
        // A sequence of predictions: the top 5 at the last position, and the best class at
        // every position.
        const size_t rows = output.size() / count;
        const float* last = output.data() + (rows - 1) * count;
        std::vector<size_t> order(count);
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(),
                         [&](size_t a, size_t b) { return last[a] > last[b]; });
        for (size_t k = 0; k < std::min<size_t>(kTop, count); ++k) {
            m_results.push_back({int64_t(order[k]), nameOf(order[k]), last[order[k]]});
        }
        m_heading->setText(rows > 1 ? tr("Top %1 of %2 at the last position")
                                          .arg(m_results.size())
                                          .arg(count)
                                    : tr("Top %1 of %2 classes").arg(m_results.size()).arg(count));
        if (rows > 1) {
            QStringList best;
            const bool chars = charVocabulary(names);
            for (size_t r = 0; r < rows; ++r) {
                const float* row = output.data() + r * count;
                best << nameOf(size_t(std::max_element(row, row + count) - row));
            }
            m_sequence->setText(tr("Output, best at each position: %1")
                                    .arg(best.join(chars ? QString() : QStringLiteral(" "))));
        }
        for (size_t k = 0; k < m_results.size(); ++k) {
            m_names[k]->setText(m_results[k].name);
            m_bars[k]->setValue(static_cast<int>(std::lround(m_results[k].value * 1000)));
            m_bars[k]->setFormat(QString::number(100.0 * m_results[k].value, 'f', 1) + " %");
            m_names[k]->show();
            m_bars[k]->show();
        }
        return;
    }
    const bool binary = m_runner->kind() == ModelRunner::OutputKind::Binary;
    for (size_t i = 0; i < output.size(); ++i) {
        m_results.push_back({int64_t(i), QStringLiteral("out[%1]").arg(i), output[i]});
    }
    m_heading->setText(binary ? tr("Probabilities (sigmoid), %1 outputs").arg(output.size())
                              : tr("Raw outputs, %1 values").arg(output.size()));
    for (size_t k = 0; k < std::min<size_t>(kRows, m_results.size()); ++k) {
        m_names[k]->setText(QStringLiteral("%1 = %2")
                                .arg(m_results[k].name)
                                .arg(double(m_results[k].value), 0, 'g', 4));
        m_names[k]->show();
        if (binary) {
            m_bars[k]->setValue(static_cast<int>(std::lround(m_results[k].value * 1000)));
            m_bars[k]->setFormat(QString::number(100.0 * m_results[k].value, 'f', 1) + " %");
            m_bars[k]->show();
        }
    }
    if (m_results.size() > size_t(kRows)) {
        m_sequence->setText(tr("... and %1 more").arg(m_results.size() - kRows));
    }
}

}  // namespace strata::ui

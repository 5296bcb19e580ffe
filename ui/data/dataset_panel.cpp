#include "ui/data/dataset_panel.h"

#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPixmap>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QStackedWidget>
#include <QTableWidget>
#include <QUndoStack>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "core/data/annotated_dataset.h"
#include "core/data/builtin.h"
#include "core/data/open_dataset.h"
#include "core/layers/registry.h"
#include "ui/data/image_folder_dataset.h"
#include "ui/node_editor/commands.h"
#include "ui/node_editor/editor_model.h"

namespace strata::ui {

namespace {

QString q(const std::string& s) { return QString::fromStdString(s); }

bool sameSource(const DatasetBinding& a, const DatasetBinding& b) {
    return a.source == b.source && a.format == b.format && a.options == b.options;
}

QString shapeText(const std::vector<int64_t>& dims) {
    if (dims.empty()) return QStringLiteral("scalar");
    QStringList parts;
    for (int64_t d : dims) parts << QString::number(d);
    return "(" + parts.join(", ") + ")";
}

QString fieldText(const FieldInfo& f) {
    QString t = q(f.name) + " " + shapeText(f.shape) +
                (f.dtype == DType::Int32 ? QStringLiteral(" int32") : QStringLiteral(" float32"));
    if (f.numClasses > 0) t += QStringLiteral(", %1 classes").arg(f.numClasses);
    return t;
}

// An image field: (C, H, W) with 1 or 3 channels, or (H, W).
bool isImageField(const FieldInfo& f) {
    if (f.dtype != DType::Float32) return false;
    if (f.shape.size() == 3) return f.shape[0] == 1 || f.shape[0] == 3;
    return f.shape.size() == 2 && f.shape[0] >= 4 && f.shape[1] >= 4;
}

// The class-label field: an int32 scalar with a known class count.
std::optional<FieldInfo> labelField(const Dataset& ds) {
    for (const FieldInfo& f : ds.fields()) {
        if (f.dtype == DType::Int32 && f.shape.empty() && f.numClasses > 0) return f;
    }
    return std::nullopt;
}

QString className(const Dataset& ds, int64_t label) {
    const auto names = ds.classNames();
    if (label >= 0 && label < static_cast<int64_t>(names.size())) return q(names[size_t(label)]);
    return QString::number(label);
}

// Which input nodes feed a loss's target port (loss targets), by node.
bool feedsLossTarget(const Graph& g, NodeId id) {
    for (const Link* l : g.linksFrom(id)) {
        const Node* to = g.node(l->to.node);
        const LayerSpec* spec = to ? findLayer(to->type) : nullptr;
        if (spec && spec->isLoss && l->to.port == "target") return true;
    }
    return false;
}

// The image input of the graph, for the image folder's resize target: the node reading "image",
// else the first float input with a (C, H, W) shape.
std::optional<std::vector<int64_t>> imageInputShape(const Graph& g) {
    std::optional<std::vector<int64_t>> first;
    for (const auto& [id, n] : g.nodes()) {
        if (n.type != "input") continue;
        const auto& shape = getShape(n.params, "shape");
        if (shape.size() != 3 || (shape[0] != 1 && shape[0] != 3)) continue;
        if (getString(n.params, "field") == "image") return shape;
        if (!first) first = shape;
    }
    return first;
}

// A folder's format: MNIST or CIFAR files inside, else one sub-folder per class.
QString folderFormat(const QString& path) {
    const QDir dir(path);
    if (!dir.entryList({"*idx3-ubyte*"}, QDir::Files).isEmpty()) return "idx";
    if (!dir.entryList({"data_batch_*", "test_batch*"}, QDir::Files).isEmpty()) return "cifar10";
    return "image_folder";
}

}  // namespace

// ---- SetDatasetCommand ----

SetDatasetCommand::SetDatasetCommand(EditorModel* model, std::optional<DatasetBinding> binding,
                                     const QString& text)
    : m_model(model), m_old(model->document().dataset), m_new(std::move(binding)) {
    setText(text);
    m_splitOnly = m_old && m_new && sameSource(*m_old, *m_new);
}

void SetDatasetCommand::redo() { m_model->setDataset(m_new); }
void SetDatasetCommand::undo() { m_model->setDataset(m_old); }

bool SetDatasetCommand::mergeWith(const QUndoCommand* other) {
    const auto* o = dynamic_cast<const SetDatasetCommand*>(other);
    if (!o || !m_splitOnly || !o->m_splitOnly || o->m_model != m_model) return false;
    m_new = o->m_new;
    return true;
}

// ---- DatasetPanel ----

DatasetPanel::DatasetPanel(EditorModel* model, std::function<QString()> documentDir,
                           QWidget* parent)
    : QWidget(parent), m_model(model), m_documentDir(std::move(documentDir)) {
    registerImageFolderFormat();
    setObjectName("datasetPanel");
    auto* outer = new QHBoxLayout(this);
    outer->setContentsMargins(6, 6, 6, 6);

    // Left column: source, split, binding.
    auto* left = new QVBoxLayout;
    auto* form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    m_builtin = new QComboBox;
    m_builtin->setObjectName("builtinBox");
    m_builtin->addItem(tr("(choose a built-in set)"));
    for (const std::string& name : builtinNames()) m_builtin->addItem(q(name));
    form->addRow(tr("Built-in"), m_builtin);

    auto* fileRow = new QHBoxLayout;
    auto* openFile = new QPushButton(tr("File..."));
    openFile->setObjectName("openDataFile");
    openFile->setToolTip(tr("An IDX (MNIST), CIFAR-10 batch, CSV or text file"));
    auto* openFolder = new QPushButton(tr("Folder..."));
    openFolder->setObjectName("openDataFolder");
    openFolder->setToolTip(tr("An image folder (one sub-folder per class), or a folder of "
                              "MNIST or CIFAR-10 files"));
    fileRow->addWidget(openFile);
    fileRow->addWidget(openFolder);
    form->addRow(tr("Open"), fileRow);

    m_format = new QComboBox;
    m_format->setObjectName("formatBox");
    m_format->addItems({"auto", "builtin", "idx", "cifar10", "csv", "image_folder", "text"});
    form->addRow(tr("Format"), m_format);
    m_source = new QLabel(tr("none"));
    m_source->setWordWrap(true);
    m_source->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form->addRow(tr("Source"), m_source);
    m_options = new QLineEdit;
    m_options->setObjectName("optionsEdit");
    m_options->setPlaceholderText("{}");
    m_options->setToolTip(tr("Reader options as JSON, e.g. {\"label_column\": \"species\"} for "
                             "CSV or {\"window\": 32} for text (docs/model-format.md)"));
    form->addRow(tr("Options"), m_options);

    m_validation = new QDoubleSpinBox;
    m_validation->setObjectName("validationFraction");
    m_validation->setRange(0.0, 0.95);
    m_validation->setSingleStep(0.05);
    m_validation->setDecimals(2);
    m_test = new QDoubleSpinBox;
    m_test->setObjectName("testFraction");
    m_test->setRange(0.0, 0.95);
    m_test->setSingleStep(0.05);
    m_test->setDecimals(2);
    m_seed = new QSpinBox;
    m_seed->setObjectName("splitSeed");
    m_seed->setRange(0, 1 << 30);
    auto* splitRow = new QHBoxLayout;
    splitRow->addWidget(new QLabel(tr("val")));
    splitRow->addWidget(m_validation);
    splitRow->addWidget(new QLabel(tr("test")));
    splitRow->addWidget(m_test);
    splitRow->addWidget(new QLabel(tr("seed")));
    splitRow->addWidget(m_seed);
    form->addRow(tr("Split"), splitRow);
    m_splitText = new QLabel;
    m_splitText->setStyleSheet("color: #9aa0aa;");
    form->addRow(QString(), m_splitText);
    left->addLayout(form);

    m_error = new QLabel;
    m_error->setObjectName("datasetError");
    m_error->setWordWrap(true);
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error->setStyleSheet("color: #e04f4f;");
    m_error->hide();
    left->addWidget(m_error);

    auto* bindTitle = new QLabel(tr("<b>Fields → input nodes</b>"));
    bindTitle->setToolTip(tr("Each input node of the graph reads one dataset field; loss "
                             "targets are input nodes too"));
    left->addWidget(bindTitle);
    m_bindingBox = new QWidget;
    m_bindings = new QFormLayout(m_bindingBox);
    m_bindings->setContentsMargins(0, 0, 0, 0);
    left->addWidget(m_bindingBox);
    left->addStretch(1);
    outer->addLayout(left, 2);

    // Right column: summary, class counts, preview.
    auto* right = new QVBoxLayout;
    m_summary = new QLabel(tr("No dataset bound."));
    m_summary->setObjectName("datasetSummary");
    m_summary->setWordWrap(true);
    right->addWidget(m_summary);
    m_counts = new QLabel;
    m_counts->setObjectName("classCounts");
    m_counts->setWordWrap(true);
    m_counts->setStyleSheet("color: #9aa0aa;");
    right->addWidget(m_counts);
    m_preview = new QStackedWidget;
    m_images = new QListWidget;
    m_images->setObjectName("imageGrid");
    m_images->setViewMode(QListView::IconMode);
    m_images->setIconSize(QSize(48, 48));
    m_images->setGridSize(QSize(72, 76));
    m_images->setResizeMode(QListView::Adjust);
    m_images->setMovement(QListView::Static);
    m_images->setSelectionMode(QAbstractItemView::NoSelection);
    m_table = new QTableWidget;
    m_table->setObjectName("dataTable");
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->setDefaultSectionSize(20);
    m_text = new QPlainTextEdit;
    m_text->setObjectName("textPreview");
    m_text->setReadOnly(true);
    m_preview->addWidget(new QWidget);  // nothing bound
    m_preview->addWidget(m_images);
    m_preview->addWidget(m_table);
    m_preview->addWidget(m_text);
    right->addWidget(m_preview, 1);
    outer->addLayout(right, 3);

    connect(m_builtin, &QComboBox::activated, this, [this](int index) {
        if (index > 0) (void)chooseBuiltin(m_builtin->itemText(index));
    });
    connect(openFile, &QPushButton::clicked, this, [this] { chooseFileWithDialog(false); });
    connect(openFolder, &QPushButton::clicked, this, [this] { chooseFileWithDialog(true); });
    connect(m_format, &QComboBox::activated, this, [this](int) {
        const auto& b = m_model->document().dataset;
        if (!b || m_updating) return;
        const QString f = m_format->currentText();
        (void)bindSource(b->source, f == "auto" ? std::string() : f.toStdString(), b->options);
    });
    connect(m_options, &QLineEdit::editingFinished, this, [this] {
        const auto& b = m_model->document().dataset;
        if (!b || m_updating) return;
        const QString text = m_options->text().trimmed();
        nlohmann::json options = nlohmann::json::parse(
            text.isEmpty() ? std::string("{}") : text.toStdString(), nullptr, false);
        if (options.is_discarded() || !options.is_object()) {
            showError(tr("The options must be a JSON object, e.g. {\"window\": 32}; the binding "
                         "is unchanged."));
            return;
        }
        if (options != b->options) (void)bindSource(b->source, b->format, options);
    });
    auto split = [this] { splitEdited(); };
    connect(m_validation, &QDoubleSpinBox::valueChanged, this, split);
    connect(m_test, &QDoubleSpinBox::valueChanged, this, split);
    connect(m_seed, &QSpinBox::valueChanged, this, split);
    connect(m_model, &EditorModel::documentReset, this, &DatasetPanel::loadFromDocument);
    connect(m_model, &EditorModel::datasetChanged, this, &DatasetPanel::loadFromDocument);
    connect(m_model, &EditorModel::graphChanged, this, &DatasetPanel::rebuildBindings);
    loadFromDocument();
}

DatasetPanel::~DatasetPanel() = default;

QComboBox* DatasetPanel::bindingBox(const QString& inputNode) const {
    return m_bindingBox->findChild<QComboBox*>("binding_" + inputNode);
}

Result<void> DatasetPanel::chooseBuiltin(const QString& name) {
    return bindSource("builtin:" + name.toStdString(), "builtin");
}

Result<void> DatasetPanel::chooseFile(const QString& path, const QString& formatIn) {
    QString format = formatIn;
    const QFileInfo info(path);
    if (format.isEmpty() && info.isDir()) format = folderFormat(path);
    // Inside the document's folder the path is stored relative, so the project can move.
    QString source = info.absoluteFilePath();
    const QString dir = m_documentDir ? m_documentDir() : QString();
    if (!dir.isEmpty()) {
        const QString rel = QDir(dir).relativeFilePath(source);
        if (!rel.startsWith("..")) source = rel;
    }
    return bindSource(source.toStdString(), format.toStdString());
}

void DatasetPanel::chooseFileWithDialog(bool folder) {
    const QString dir = m_documentDir ? m_documentDir() : QString();
    const QString path =
        folder ? QFileDialog::getExistingDirectory(this, tr("Choose a data folder"), dir)
               : QFileDialog::getOpenFileName(
                     this, tr("Choose a data file"), dir,
                     tr("Data files (*.csv *.tsv *.txt *.bin *ubyte *.gz);;All files (*)"));
    if (!path.isEmpty()) (void)chooseFile(path);
}

Result<void> DatasetPanel::bindSource(const std::string& source, const std::string& format,
                                      nlohmann::json options) {
    DatasetBinding b = m_model->document().dataset.value_or(DatasetBinding{});
    b.source = source;
    b.format = format;
    b.options = options.is_object() ? std::move(options) : nlohmann::json::object();
    // Image folders are resized to the graph's image input; the shape goes into the options so
    // that `strata train` reads the same tensors.
    if (b.format == "image_folder" && !b.options.contains("shape")) {
        if (auto shape = imageInputShape(m_model->graph())) b.options["shape"] = *shape;
    }
    const std::string dir = m_documentDir ? m_documentDir().toStdString() : std::string();
    auto ds = openDataset(b, dir);
    if (!ds) {
        showError(tr("%1\nThe dataset binding is unchanged.").arg(q(ds.message())));
        return ds.error();
    }
    m_dataset = std::move(*ds);
    m_shown = b;
    if (b != m_model->document().dataset) {
        m_model->undoStack()->push(new SetDatasetCommand(
            m_model, b, tr("Bind dataset %1").arg(QFileInfo(q(source)).fileName())));
    }
    showDataset();
    return {};
}

void DatasetPanel::loadFromDocument() {
    const auto& b = m_model->document().dataset;
    if (!b) {
        m_dataset.reset();
        m_shown.reset();
        m_error->hide();
        showDataset();
        return;
    }
    if (!m_shown || !sameSource(*m_shown, *b)) {
        const std::string dir = m_documentDir ? m_documentDir().toStdString() : std::string();
        auto ds = openDataset(*b, dir);
        m_shown = b;
        if (ds) {
            m_dataset = std::move(*ds);
            m_error->hide();
        } else {
            m_dataset.reset();
            showError(q(ds.message()));
        }
    }
    m_shown = b;
    showDataset();
}

void DatasetPanel::showError(const QString& text) {
    m_error->setText(text);
    m_error->show();
}

void DatasetPanel::setSplitWidgets(const DatasetBinding& b) {
    m_validation->setValue(b.validationFraction);
    m_test->setValue(b.testFraction);
    m_seed->setValue(static_cast<int>(std::min<uint64_t>(b.splitSeed, 1u << 30)));
}

void DatasetPanel::splitEdited() {
    if (m_updating) return;
    const auto& current = m_model->document().dataset;
    if (!current) return;
    DatasetBinding b = *current;
    b.validationFraction = m_validation->value();
    b.testFraction = m_test->value();
    b.splitSeed = static_cast<uint64_t>(m_seed->value());
    if (b.validationFraction + b.testFraction >= 0.99) {
        showError(tr("Validation and test together must leave samples to train on; the split "
                     "is unchanged."));
        return;
    }
    m_error->hide();
    if (b != *current) m_model->undoStack()->push(new SetDatasetCommand(m_model, b, tr("Split")));
}

void DatasetPanel::updateSplitText() {
    const auto& b = m_model->document().dataset;
    if (!b || !m_dataset) {
        m_splitText->clear();
        return;
    }
    if (b->options.contains("validation_source")) {
        m_splitText->setText(tr("validation from %1")
                                 .arg(q(b->options["validation_source"].dump())));
        return;
    }
    // The counts splitDataset draws.
    const int64_t n = m_dataset->size();
    const auto val = static_cast<int64_t>(std::llround(double(n) * b->validationFraction));
    const auto test = static_cast<int64_t>(std::llround(double(n) * b->testFraction));
    m_splitText->setText(tr("%1 train · %2 validation · %3 test")
                             .arg(n - val - test)
                             .arg(val)
                             .arg(test));
}

void DatasetPanel::showDataset() {
    m_updating = true;
    const auto& b = m_model->document().dataset;
    if (b) {
        setSplitWidgets(*b);
        m_source->setText(q(b->source));
        const int f = m_format->findText(b->format.empty() ? QString("auto") : q(b->format));
        m_format->setCurrentIndex(std::max(0, f));
        m_options->setText(b->options.empty() ? QString() : q(b->options.dump()));
        const int builtin = b->source.rfind("builtin:", 0) == 0
                                ? m_builtin->findText(q(b->source.substr(8)))
                                : 0;
        m_builtin->setCurrentIndex(std::max(0, builtin));
    } else {
        m_source->setText(tr("none"));
        m_builtin->setCurrentIndex(0);
        m_options->clear();
    }
    m_updating = false;
    updateSplitText();
    m_images->clear();
    m_table->clear();
    m_table->setRowCount(0);
    m_table->setColumnCount(0);
    m_text->clear();
    m_counts->clear();
    rebuildBindings();
    if (!m_dataset) {
        m_summary->setText(b ? tr("The bound dataset cannot be read (see above).")
                             : tr("No dataset bound: choose a built-in set, a file or a folder."));
        m_preview->setCurrentIndex(0);
        return;
    }
    m_error->hide();
    const Dataset& ds = *m_dataset;
    const int64_t n = ds.size();
    QStringList fieldTexts;
    for (const FieldInfo& f : ds.fields()) fieldTexts << fieldText(f);
    m_summary->setText(tr("<b>%1 samples</b> · %2").arg(n).arg(fieldTexts.join(" · ")));

    const auto label = labelField(ds);
    if (label && n > 0) {
        std::vector<int64_t> all(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) all[size_t(i)] = i;
        std::vector<float> labels(static_cast<size_t>(n));
        ds.gather(all, label->name, labels.data());
        std::vector<int64_t> counts(static_cast<size_t>(label->numClasses), 0);
        for (float v : labels) {
            const auto c = static_cast<int64_t>(v);
            if (c >= 0 && c < label->numClasses) ++counts[size_t(c)];
        }
        QStringList parts;
        for (int64_t c = 0; c < label->numClasses && c < 100; ++c) {
            parts << QStringLiteral("%1: %2").arg(className(ds, c)).arg(counts[size_t(c)]);
        }
        m_counts->setText(tr("Class counts (%1): %2").arg(q(label->name), parts.join(" · ")));
    }

    const int64_t shown = std::min<int64_t>(n, kPreviewImages);
    std::vector<int64_t> first(static_cast<size_t>(shown));
    for (int64_t i = 0; i < shown; ++i) first[size_t(i)] = i;

    std::optional<FieldInfo> image;
    for (const FieldInfo& f : ds.fields()) {
        if (isImageField(f)) {
            image = f;
            break;
        }
    }
    if (image) {
        const int channels = image->shape.size() == 3 ? int(image->shape[0]) : 1;
        const int h = int(image->shape[image->shape.size() - 2]);
        const int w = int(image->shape.back());
        std::vector<float> pixels(size_t(shown * image->sampleSize()));
        ds.gather(first, image->name, pixels.data());
        // Stretch the preview's range to 0..255 whatever the data's scale.
        const auto [lo, hi] = std::minmax_element(pixels.begin(), pixels.end());
        const float low = pixels.empty() ? 0.f : *lo;
        const float scale = pixels.empty() || *hi <= *lo ? 1.f : 255.f / (*hi - *lo);
        std::vector<float> labels(static_cast<size_t>(shown));
        if (label) ds.gather(first, label->name, labels.data());
        for (int64_t i = 0; i < shown; ++i) {
            QImage img(w, h, QImage::Format_RGB888);
            const float* s = pixels.data() + i * image->sampleSize();
            for (int y = 0; y < h; ++y) {
                uchar* row = img.scanLine(y);
                for (int x = 0; x < w; ++x) {
                    for (int c = 0; c < 3; ++c) {
                        const int ch = channels == 3 ? c : 0;
                        const float v = (s[(ch * h + y) * w + x] - low) * scale;
                        row[3 * x + c] = uchar(std::clamp(v, 0.f, 255.f));
                    }
                }
            }
            const QPixmap pix = QPixmap::fromImage(img.scaled(
                48, 48, Qt::KeepAspectRatio,
                w < 48 ? Qt::FastTransformation : Qt::SmoothTransformation));
            auto* item = new QListWidgetItem(QIcon(pix),
                                             label ? className(ds, int64_t(labels[size_t(i)]))
                                                   : QString("#%1").arg(i),
                                             m_images);
            item->setToolTip(tr("sample %1").arg(i));
        }
        m_preview->setCurrentWidget(m_images);
        emit datasetOpened();
        return;
    }

    const auto vocabulary = datasetVocabulary(ds);
    if (!vocabulary.empty()) {
        const bool chars = std::all_of(vocabulary.begin(), vocabulary.end(),
                                       [](const std::string& v) { return v.size() <= 1; });
        QString text;
        const int64_t samples = std::min<int64_t>(n, 8);
        for (int64_t i = 0; i < samples; ++i) {
            for (const FieldInfo& f : ds.fields()) {
                if (f.dtype != DType::Int32 || f.shape.size() != 1) continue;
                std::vector<float> ids(size_t(f.sampleSize()));
                const int64_t idx = i;
                ds.gather(std::span<const int64_t>(&idx, 1), f.name, ids.data());
                QStringList tokens;
                for (float v : ids) {
                    const auto id = static_cast<size_t>(v);
                    tokens << (id < vocabulary.size() ? q(vocabulary[id]) : QStringLiteral("?"));
                }
                text += QStringLiteral("[%1] %2: %3\n")
                            .arg(i)
                            .arg(q(f.name), tokens.join(chars ? QString() : QStringLiteral(" ")));
            }
        }
        m_text->setPlainText(text);
        m_preview->setCurrentWidget(m_text);
        emit datasetOpened();
        return;
    }

    // Tabular: one row per sample, the first values of every field.
    constexpr int64_t kMaxColumnsPerField = 16;
    QStringList headers;
    std::vector<std::pair<FieldInfo, int64_t>> columns;  // field, columns shown
    for (const FieldInfo& f : ds.fields()) {
        const int64_t k = std::min(f.sampleSize(), kMaxColumnsPerField);
        columns.emplace_back(f, k);
        for (int64_t c = 0; c < k; ++c) {
            headers << (f.sampleSize() == 1 ? q(f.name) : QStringLiteral("%1[%2]").arg(q(f.name)).arg(c));
        }
    }
    const int64_t rows = std::min<int64_t>(n, kPreviewRows);
    m_table->setColumnCount(static_cast<int>(headers.size()));
    m_table->setHorizontalHeaderLabels(headers);
    m_table->setRowCount(static_cast<int>(rows));
    std::vector<int64_t> rowIds(static_cast<size_t>(rows));
    for (int64_t i = 0; i < rows; ++i) rowIds[size_t(i)] = i;
    int col = 0;
    for (const auto& [f, k] : columns) {
        std::vector<float> values(size_t(rows * f.sampleSize()));
        ds.gather(rowIds, f.name, values.data());
        for (int64_t c = 0; c < k; ++c) {
            for (int64_t r = 0; r < rows; ++r) {
                const float v = values[size_t(r * f.sampleSize() + c)];
                const QString t = f.dtype == DType::Int32 && f.sampleSize() == 1 && label &&
                                          f.name == label->name
                                      ? className(ds, int64_t(v))
                                      : QString::number(v, 'g', 4);
                m_table->setItem(int(r), col, new QTableWidgetItem(t));
            }
            ++col;
        }
    }
    m_table->resizeColumnsToContents();
    m_preview->setCurrentWidget(m_table);
    emit datasetOpened();
}

void DatasetPanel::rebuildBindings() {
    // The combo that triggered a field edit may be the sender: delete the old rows later.
    while (m_bindings->rowCount() > 0) {
        QFormLayout::TakeRowResult row = m_bindings->takeRow(0);
        for (QLayoutItem* item : {row.labelItem, row.fieldItem}) {
            if (!item) continue;
            if (QWidget* w = item->widget()) {
                w->setObjectName(QString());
                w->hide();
                w->deleteLater();
            }
            delete item;
        }
    }
    const Graph& g = m_model->graph();
    std::vector<FieldInfo> fields;
    if (m_dataset) fields = m_dataset->fields();
    bool any = false;
    for (const auto& [id, node] : g.nodes()) {
        if (node.type != "input") continue;
        any = true;
        const std::string current = getString(node.params, "field");
        const bool target = feedsLossTarget(g, id);
        auto* box = new QComboBox;
        box->setObjectName("binding_" + q(node.name));
        int selected = -1;
        for (const FieldInfo& f : fields) {
            box->addItem(fieldText(f), q(f.name));
            const auto& shape = getShape(node.params, "shape");
            if (shape != f.shape) {
                box->setItemData(box->count() - 1,
                                 tr("The node expects %1; this field is %2")
                                     .arg(shapeText(shape), shapeText(f.shape)),
                                 Qt::ToolTipRole);
            }
            if (f.name == current) selected = box->count() - 1;
        }
        if (selected < 0) {
            box->insertItem(0, tr("%1 (not in the dataset)").arg(q(current)), q(current));
            box->setItemData(0, QColor(0xe0, 0x4f, 0x4f), Qt::ForegroundRole);
            selected = 0;
        }
        box->setCurrentIndex(selected);
        const NodeId nodeId = id;
        connect(box, &QComboBox::activated, this, [this, box, nodeId](int index) {
            const std::string field = box->itemData(index).toString().toStdString();
            const Node* n = m_model->graph().node(nodeId);
            if (!n || getString(n->params, "field") == field) return;
            auto ok = m_model->push(new SetParamCommand(m_model, nodeId, "field", field));
            if (!ok) showError(q(ok.message()));
        });
        auto* label = new QLabel(target ? tr("%1 (loss target)").arg(q(node.name))
                                        : q(node.name));
        m_bindings->addRow(label, box);
    }
    if (!any) m_bindings->addRow(new QLabel(tr("The graph has no input nodes yet.")));
}

}  // namespace strata::ui

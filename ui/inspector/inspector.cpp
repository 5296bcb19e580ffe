#include "ui/inspector/inspector.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>
#include <QVBoxLayout>
#include <climits>
#include <functional>
#include <cmath>

#include "core/layers/registry.h"
#include "ui/node_editor/commands.h"

namespace strata::ui {

namespace {

QString q(const std::string& s) { return QString::fromStdString(s); }

// A spin box never takes a value outside its range, so without help a person typing one would
// see their keystroke ignored or the old value come back without knowing why: every text it does
// not accept is handed to `refused`, which shows the parameter's rule.
using RefusedText = std::function<void(const QString&)>;

class IntSpinBox : public QSpinBox {
public:
    IntSpinBox(QWidget* parent, RefusedText refused)
        : QSpinBox(parent), m_refused(std::move(refused)) {}
    QValidator::State validate(QString& text, int& pos) const override {
        const QValidator::State state = QSpinBox::validate(text, pos);
        if (state != QValidator::Acceptable) m_refused(text);
        return state;
    }

private:
    RefusedText m_refused;
};

// Shows small and large values as people write them ("1e-05", "0.1") rather than with a fixed
// number of decimals.
class FloatSpinBox : public QDoubleSpinBox {
public:
    FloatSpinBox(QWidget* parent, RefusedText refused)
        : QDoubleSpinBox(parent), m_refused(std::move(refused)) {
        setDecimals(12);
    }
    QString textFromValue(double v) const override { return QString::number(v, 'g', 8); }
    double valueFromText(const QString& text) const override { return text.trimmed().toDouble(); }
    QValidator::State validate(QString& text, int&) const override {
        bool ok = false;
        const QString t = text.trimmed();
        double v = t.toDouble(&ok);
        if (ok) {
            if (v >= minimum() && v <= maximum()) return QValidator::Acceptable;
            m_refused(text);
            return QValidator::Intermediate;
        }
        // Half-typed numbers ("1e-", "-", "0.") are allowed to continue.
        static const QRegularExpression partial("^[-+]?[0-9]*\\.?[0-9]*(e[-+]?[0-9]*)?$",
                                                QRegularExpression::CaseInsensitiveOption);
        return partial.match(t).hasMatch() ? QValidator::Intermediate : QValidator::Invalid;
    }

private:
    RefusedText m_refused;
};

const char* kRefusedStyle = "border: 1px solid #e04f4f; border-radius: 3px;";

QString shapeEditText(const std::vector<int64_t>& dims) {
    QStringList parts;
    for (int64_t d : dims) parts << QString::number(d);
    return parts.join(", ");
}

}  // namespace

Result<std::vector<int64_t>> Inspector::parseShape(const QString& text) {
    std::vector<int64_t> dims;
    QString t = text.trimmed();
    if (t.startsWith('(') || t.startsWith('[')) t = t.mid(1);
    if (t.endsWith(')') || t.endsWith(']')) t.chop(1);
    if (t.trimmed().isEmpty()) return fail("write at least one size, e.g. 1, 28, 28");
    for (const QString& part : t.split(',')) {
        bool ok = false;
        qlonglong v = part.trimmed().toLongLong(&ok);
        if (!ok) {
            return fail("'" + part.trimmed().toStdString() +
                        "' is not a whole number; write sizes separated by commas, e.g. 1, 28, 28");
        }
        dims.push_back(v);
    }
    return dims;
}

Inspector::Inspector(EditorModel* model, QWidget* parent) : QWidget(parent), m_model(model) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 8, 8, 8);
    m_empty = new QLabel(tr("Select a node to see and edit its parameters."), this);
    m_empty->setWordWrap(true);
    m_empty->setStyleSheet("color: #8a909a;");
    layout->addWidget(m_empty);
    layout->addStretch(1);
    connect(model, &EditorModel::graphChanged, this, &Inspector::refresh);
    connect(model, &EditorModel::documentReset, this, [this] { setNode({}); });
}

void Inspector::setNode(NodeId id) {
    if (id == m_node && m_form) {
        refresh();
        return;
    }
    m_node = id;
    rebuild();
}

Inspector::Field* Inspector::field(const std::string& param) {
    for (Field& f : m_fields) {
        if (f.spec.name == param) return &f;
    }
    return nullptr;
}

QWidget* Inspector::editor(const std::string& param) const {
    for (const Field& f : m_fields) {
        if (f.spec.name == param) return f.editor;
    }
    return nullptr;
}

QString Inspector::refusal(const std::string& param) const {
    for (const Field& f : m_fields) {
        if (f.spec.name == param) return f.message->isHidden() ? QString() : f.message->text();
    }
    return {};
}

QString Inspector::shapesText() const { return m_shapes ? m_shapes->text() : QString(); }

void Inspector::rebuild() {
    ++m_mergeKey;
    delete m_form;
    m_form = nullptr;
    m_fields.clear();
    m_nameEdit = nullptr;
    m_shapes = m_stats = m_error = nullptr;
    const Node* n = m_model->graph().node(m_node);
    m_empty->setVisible(!n);
    if (!n) {
        m_type.clear();
        return;
    }
    m_type = n->type;
    const LayerSpec* spec = findLayer(n->type);

    m_form = new QWidget(this);
    auto* outer = new QVBoxLayout(m_form);
    outer->setContentsMargins(0, 0, 0, 0);
    m_title = new QLabel(QString("<b>%1</b> <span style='color:#8a909a'>%2</span>")
                             .arg(q(spec->label), q(spec->id)), m_form);
    m_doc = new QLabel(q(spec->doc), m_form);
    m_doc->setWordWrap(true);
    m_doc->setStyleSheet("color: #9aa0aa;");
    outer->addWidget(m_title);
    outer->addWidget(m_doc);

    auto* form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    outer->addLayout(form);

    m_nameEdit = new QLineEdit(q(n->name), m_form);
    m_nameEdit->setObjectName("name");
    m_nameMessage = new QLabel(m_form);
    m_nameMessage->setWordWrap(true);
    m_nameMessage->setStyleSheet("color: #e04f4f;");
    m_nameMessage->hide();
    auto* nameBox = new QVBoxLayout;
    nameBox->setSpacing(2);
    nameBox->addWidget(m_nameEdit);
    nameBox->addWidget(m_nameMessage);
    form->addRow(tr("Name"), nameBox);
    connect(m_nameEdit, &QLineEdit::editingFinished, this, &Inspector::submitName);
    connect(m_nameEdit, &QLineEdit::textEdited, this, [this](const QString& t) {
        bool ok = isValidNodeName(t.toStdString());
        m_nameEdit->setStyleSheet(ok ? "" : kRefusedStyle);
        m_nameMessage->setText(tr("Use letters, digits, '_' or '-', starting with a letter."));
        m_nameMessage->setVisible(!ok);
    });

    m_fields.reserve(spec->params.size());
    for (const ParamSpec& ps : spec->params) {
        m_fields.push_back(Field{ps, nullptr, nullptr});
        const size_t index = m_fields.size() - 1;
        auto fieldAt = [this, index]() -> Field& { return m_fields[index]; };
        QWidget* ed = nullptr;
        const ParamValue& v = n->params.at(ps.name);
        switch (ps.type) {
            case ParamType::Int: {
                auto* box = new IntSpinBox(m_form, [this, fieldAt](const QString& text) {
                    bool ok = false;
                    const qlonglong x = text.trimmed().toLongLong(&ok);
                    if (!ok) return;
                    if (auto v = fieldAt().spec.check(ParamValue{int64_t{x}}); !v) {
                        showRefusal(fieldAt(), q(v.message()));
                    }
                });
                box->setRange(static_cast<int>(std::max<double>(ps.min, INT_MIN)),
                              static_cast<int>(std::min<double>(ps.max, INT_MAX)));
                box->setValue(static_cast<int>(std::get<int64_t>(v)));
                connect(box, &QSpinBox::valueChanged, this, [this, fieldAt](int x) {
                    submit(fieldAt(), fieldAt().spec.check(ParamValue{int64_t{x}}));
                });
                ed = box;
                break;
            }
            case ParamType::Float: {
                auto* box = new FloatSpinBox(m_form, [this, fieldAt](const QString& text) {
                    bool ok = false;
                    const double x = text.trimmed().toDouble(&ok);
                    if (!ok) return;
                    if (auto v = fieldAt().spec.check(ParamValue{x}); !v) {
                        showRefusal(fieldAt(), q(v.message()));
                    }
                });
                box->setRange(ps.min, ps.max);
                const double span = ps.max - ps.min;
                box->setSingleStep(span <= 1 ? 0.01 : (span <= 100 ? 0.1 : 1));
                box->setValue(std::get<double>(v));
                connect(box, &QDoubleSpinBox::valueChanged, this, [this, fieldAt](double x) {
                    submit(fieldAt(), fieldAt().spec.check(ParamValue{x}));
                });
                ed = box;
                break;
            }
            case ParamType::Bool: {
                auto* box = new QCheckBox(m_form);
                box->setChecked(std::get<bool>(v));
                connect(box, &QCheckBox::toggled, this, [this, fieldAt](bool x) {
                    submit(fieldAt(), fieldAt().spec.check(ParamValue{x}));
                });
                ed = box;
                break;
            }
            case ParamType::Enum: {
                auto* box = new QComboBox(m_form);
                for (const auto& c : ps.choices) box->addItem(q(c));
                box->setCurrentText(q(std::get<std::string>(v)));
                connect(box, &QComboBox::currentTextChanged, this, [this, fieldAt](const QString& x) {
                    submit(fieldAt(), fieldAt().spec.check(ParamValue{x.toStdString()}));
                });
                ed = box;
                break;
            }
            case ParamType::Shape: {
                auto* line = new QLineEdit(shapeEditText(std::get<std::vector<int64_t>>(v)), m_form);
                line->setPlaceholderText("1, 28, 28");
                connect(line, &QLineEdit::textEdited, this, [this, fieldAt](const QString& x) {
                    auto dims = parseShape(x);
                    if (!dims) {
                        showRefusal(fieldAt(), q(dims.message()));
                        return;
                    }
                    submit(fieldAt(), fieldAt().spec.check(ParamValue{*dims}));
                });
                ed = line;
                break;
            }
            case ParamType::String: {
                auto* line = new QLineEdit(q(std::get<std::string>(v)), m_form);
                connect(line, &QLineEdit::textEdited, this, [this, fieldAt](const QString& x) {
                    submit(fieldAt(), fieldAt().spec.check(ParamValue{x.toStdString()}));
                });
                ed = line;
                break;
            }
        }
        if (auto* spin = qobject_cast<QAbstractSpinBox*>(ed)) {
            // Leaving a refused number brings the accepted value back, and with it no complaint.
            connect(spin, &QAbstractSpinBox::editingFinished, this, [this, fieldAt] {
                ++m_mergeKey;
                Field& f = fieldAt();
                f.editor->setStyleSheet("");
                f.message->hide();
            });
        } else if (auto* line = qobject_cast<QLineEdit*>(ed)) {
            connect(line, &QLineEdit::editingFinished, this, [this] { ++m_mergeKey; });
        }
        ed->setObjectName(q(ps.name));
        ed->setToolTip(QString("%1<br><i>%2</i>").arg(q(ps.doc).toHtmlEscaped(),
                                                      q(ps.rangeText()).toHtmlEscaped()));
        auto* message = new QLabel(m_form);
        message->setWordWrap(true);
        message->setStyleSheet("color: #e04f4f;");
        message->hide();
        auto* box = new QVBoxLayout;
        box->setSpacing(2);
        box->addWidget(ed);
        box->addWidget(message);
        auto* label = new QLabel(q(ps.name), m_form);
        label->setToolTip(ed->toolTip());
        form->addRow(label, box);
        m_fields[index].editor = ed;
        m_fields[index].message = message;
    }

    auto* info = new QFormLayout;
    m_shapes = new QLabel(m_form);
    m_shapes->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_shapes->setWordWrap(true);
    m_stats = new QLabel(m_form);
    m_stats->setWordWrap(true);
    m_error = new QLabel(m_form);
    m_error->setWordWrap(true);
    m_error->setStyleSheet("color: #e04f4f;");
    info->addRow(tr("Output"), m_shapes);
    info->addRow(tr("Size"), m_stats);
    outer->addSpacing(8);
    outer->addLayout(info);
    outer->addWidget(m_error);
    static_cast<QVBoxLayout*>(layout())->insertWidget(0, m_form);
    refresh();
}

void Inspector::refresh() {
    const Node* n = m_model->graph().node(m_node);
    if (!n || n->type != m_type) {
        if (m_form || n) {
            if (!n) m_node = {};
            rebuild();
        }
        return;
    }
    // Bring editors in line with the model (after undo, redo or a rename elsewhere), leaving
    // alone the one the user is typing in.
    for (Field& f : m_fields) {
        if (f.spec.name == m_editing) continue;
        const ParamValue& v = n->params.at(f.spec.name);
        QSignalBlocker block(f.editor);
        if (auto* box = qobject_cast<QSpinBox*>(f.editor)) {
            box->setValue(static_cast<int>(std::get<int64_t>(v)));
        } else if (auto* dbox = qobject_cast<QDoubleSpinBox*>(f.editor)) {
            dbox->setValue(std::get<double>(v));
        } else if (auto* check = qobject_cast<QCheckBox*>(f.editor)) {
            check->setChecked(std::get<bool>(v));
        } else if (auto* combo = qobject_cast<QComboBox*>(f.editor)) {
            combo->setCurrentText(q(std::get<std::string>(v)));
        } else if (auto* line = qobject_cast<QLineEdit*>(f.editor)) {
            QString text = f.spec.type == ParamType::Shape
                               ? shapeEditText(std::get<std::vector<int64_t>>(v))
                               : q(std::get<std::string>(v));
            bool same = f.spec.type == ParamType::Shape
                            ? (parseShape(line->text()).ok() &&
                               *parseShape(line->text()) == std::get<std::vector<int64_t>>(v))
                            : line->text() == text;
            if (!same) line->setText(text);
        }
        f.editor->setStyleSheet("");
        f.message->hide();
    }
    if (m_nameEdit && !m_nameEdit->hasFocus() && m_nameEdit->text() != q(n->name)) {
        m_nameEdit->setText(q(n->name));
        m_nameEdit->setStyleSheet("");
        m_nameMessage->hide();
    }

    const GraphAnalysis& a = m_model->analysis();
    auto it = a.nodes.find(m_node);
    QStringList shapes;
    QString stats = "-";
    QString error;
    if (it != a.nodes.end()) {
        error = q(it->second.error);
        if (it->second.info) {
            const LayerSpec* spec = findLayer(n->type);
            for (size_t i = 0; i < it->second.info->outputs.size(); ++i) {
                const auto& o = it->second.info->outputs[i];
                QString s = q(o.shape.rank() == 0 ? std::string("scalar") : o.shape.str());
                if (o.dtype == DType::Int32) s += " int32";
                shapes << (spec->outputs.size() > 1 ? q(spec->outputs[i].name) + ": " + s : s);
            }
            stats = tr("%1 parameters\n%2 FLOPs per sample\n%3 of activations per sample")
                        .arg(QLocale().toString(static_cast<qlonglong>(it->second.parameters)),
                             compactCount(it->second.flops), byteText(it->second.activationBytes));
        }
    }
    m_shapes->setText(shapes.isEmpty() ? tr("unknown") : shapes.join("\n"));
    m_stats->setText(stats);
    m_error->setText(error);
    m_error->setVisible(!error.isEmpty());
}

void Inspector::showRefusal(Field& f, const QString& reason) {
    f.editor->setStyleSheet(kRefusedStyle);
    f.message->setText(reason);
    f.message->show();
}

void Inspector::submit(Field& f, const Result<ParamValue>& value) {
    if (!value) {
        showRefusal(f, q(value.message()));
        return;
    }
    const Node* n = m_model->graph().node(m_node);
    if (!n) return;
    if (n->params.at(f.spec.name) == *value) {
        f.editor->setStyleSheet("");
        f.message->hide();
        return;
    }
    m_editing = f.spec.name;
    // Typed values merge while the editor is being typed in; a click on a check box or a choice
    // in a list is a step of its own.
    const bool typed = f.spec.type == ParamType::Int || f.spec.type == ParamType::Float ||
                       f.spec.type == ParamType::Shape || f.spec.type == ParamType::String;
    auto ok = m_model->push(
        new SetParamCommand(m_model, m_node, f.spec.name, *value, typed ? m_mergeKey : -1));
    m_editing.clear();
    if (!ok) {
        showRefusal(f, q(ok.message()));
        return;
    }
    // push() refreshed the other editors; this one was left as typed and is now accepted.
    if (Field* same = field(f.spec.name)) {
        same->editor->setStyleSheet("");
        same->message->hide();
    }
}

void Inspector::submitName() {
    const Node* n = m_model->graph().node(m_node);
    if (!n || !m_nameEdit) return;
    const std::string name = m_nameEdit->text().trimmed().toStdString();
    if (name == n->name) return;
    auto ok = m_model->push(new RenameCommand(m_model, m_node, name));
    if (!ok) {
        m_nameEdit->setStyleSheet(kRefusedStyle);
        m_nameMessage->setText(q(ok.message()));
        m_nameMessage->show();
    } else {
        m_nameEdit->setStyleSheet("");
        m_nameMessage->hide();
    }
}

}  // namespace strata::ui

#include "ui/node_editor/palette.h"

#include <QHeaderView>
#include <QLineEdit>
#include <QMimeData>
#include <QVBoxLayout>

#include "core/layers/registry.h"
#include "ui/node_editor/graph_scene.h"

namespace strata::ui {

PaletteTree::PaletteTree(QWidget* parent) : QTreeWidget(parent) {
    setHeaderHidden(true);
    setDragEnabled(true);
    setDragDropMode(QAbstractItemView::DragOnly);
    setSelectionMode(QAbstractItemView::SingleSelection);
    setRootIsDecorated(true);
    setIndentation(12);
}

QStringList PaletteTree::mimeTypes() const { return {kLayerMime}; }

QMimeData* PaletteTree::mimeData(const QList<QTreeWidgetItem*>& items) const {
    for (QTreeWidgetItem* item : items) {
        QString id = item->data(0, Palette::kLayerIdRole).toString();
        if (id.isEmpty()) continue;
        auto* mime = new QMimeData;
        mime->setData(kLayerMime, id.toUtf8());
        return mime;
    }
    return nullptr;
}

Palette::Palette(QWidget* parent) : QWidget(parent) {
    m_search = new QLineEdit(this);
    m_search->setPlaceholderText(tr("Search layers"));
    m_search->setClearButtonEnabled(true);
    m_tree = new PaletteTree(this);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_search);
    layout->addWidget(m_tree);

    const auto& reg = LayerRegistry::instance();
    for (const std::string& cat : reg.categories()) {
        auto* group = new QTreeWidgetItem(m_tree, {QString::fromStdString(cat)});
        group->setFlags(Qt::ItemIsEnabled);
        QFont f = group->font(0);
        f.setBold(true);
        group->setFont(0, f);
        for (const LayerSpec& s : reg.all()) {
            if (s.category != cat) continue;
            auto* item = new QTreeWidgetItem(group, {QString::fromStdString(s.label)});
            item->setData(0, kLayerIdRole, QString::fromStdString(s.id));
            item->setToolTip(0, QString("<b>%1</b> <i>(%2)</i><br>%3")
                                    .arg(QString::fromStdString(s.label), QString::fromStdString(s.id),
                                         QString::fromStdString(s.doc).toHtmlEscaped()));
            item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsDragEnabled);
        }
    }
    m_tree->expandAll();

    connect(m_search, &QLineEdit::textChanged, this, &Palette::setFilter);
    connect(m_tree, &QTreeWidget::itemDoubleClicked, this, [this](QTreeWidgetItem* item) {
        QString id = item->data(0, kLayerIdRole).toString();
        if (!id.isEmpty()) emit addRequested(id);
    });
    connect(m_search, &QLineEdit::returnPressed, this, [this] {
        // Enter adds the first visible match.
        for (int g = 0; g < m_tree->topLevelItemCount(); ++g) {
            QTreeWidgetItem* group = m_tree->topLevelItem(g);
            for (int i = 0; i < group->childCount(); ++i) {
                if (!group->child(i)->isHidden()) {
                    emit addRequested(group->child(i)->data(0, kLayerIdRole).toString());
                    return;
                }
            }
        }
    });
}

QTreeWidgetItem* Palette::itemFor(const QString& layerId) const {
    for (int g = 0; g < m_tree->topLevelItemCount(); ++g) {
        QTreeWidgetItem* group = m_tree->topLevelItem(g);
        for (int i = 0; i < group->childCount(); ++i) {
            if (group->child(i)->data(0, kLayerIdRole).toString() == layerId) return group->child(i);
        }
    }
    return nullptr;
}

void Palette::setFilter(const QString& text) {
    const QString needle = text.trimmed();
    for (int g = 0; g < m_tree->topLevelItemCount(); ++g) {
        QTreeWidgetItem* group = m_tree->topLevelItem(g);
        int visible = 0;
        for (int i = 0; i < group->childCount(); ++i) {
            QTreeWidgetItem* item = group->child(i);
            const QString id = item->data(0, kLayerIdRole).toString();
            bool match = needle.isEmpty() || item->text(0).contains(needle, Qt::CaseInsensitive) ||
                         id.contains(needle, Qt::CaseInsensitive) ||
                         item->toolTip(0).contains(needle, Qt::CaseInsensitive);
            item->setHidden(!match);
            visible += match ? 1 : 0;
        }
        group->setHidden(visible == 0);
    }
}

}  // namespace strata::ui

#pragma once
// Every registered layer, grouped by category, searchable, with its one-line doc as tooltip.
// Items drag onto the canvas as kLayerMime carrying the layer id; double-click asks to add one.
#include <QTreeWidget>
#include <QWidget>

class QLineEdit;

namespace strata::ui {

class PaletteTree : public QTreeWidget {
    Q_OBJECT
public:
    explicit PaletteTree(QWidget* parent = nullptr);
    // What dragging `item` carries (what a drop on the canvas receives).
    QMimeData* dragData(QTreeWidgetItem* item) const { return mimeData({item}); }

protected:
    QMimeData* mimeData(const QList<QTreeWidgetItem*>& items) const override;
    QStringList mimeTypes() const override;
};

class Palette : public QWidget {
    Q_OBJECT
public:
    explicit Palette(QWidget* parent = nullptr);

    PaletteTree* tree() const { return m_tree; }
    QLineEdit* searchField() const { return m_search; }
    // The item for a layer id, or nullptr.
    QTreeWidgetItem* itemFor(const QString& layerId) const;
    void setFilter(const QString& text);

    static constexpr int kLayerIdRole = Qt::UserRole + 1;

signals:
    void addRequested(const QString& layerId);

private:
    QLineEdit* m_search;
    PaletteTree* m_tree;
};

}  // namespace strata::ui

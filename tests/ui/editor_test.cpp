// The node editor driven like a person would: drops from the palette, wires dragged between
// ports with the mouse, inspector typing, menu actions; the core::Graph is checked after each.
#include <gtest/gtest.h>

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QLabel>
#include <QDir>
#include <QLineEdit>
#include <QListWidget>
#include <QMenuBar>
#include <QMimeData>
#include <QPushButton>
#include <QDoubleSpinBox>
#include <QSpinBox>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>

#include "core/layers/registry.h"
#include "ui/inspector/inspector.h"
#include "ui/main_window.h"
#include "ui/templates.h"
#include "ui/node_editor/commands.h"
#include "ui/node_editor/graph_items.h"
#include "ui/node_editor/graph_scene.h"
#include "ui/node_editor/graph_view.h"
#include "ui/node_editor/palette.h"

namespace strata::ui {
namespace {

QApplication& app() {
    static int argc = 1;
    static char name[] = "test_ui";
    static char* argv[] = {name, nullptr};
    static QApplication* instance = [] {
        if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
        QStandardPaths::setTestModeEnabled(true);
        QApplication::setOrganizationName("StrataTest");
        QApplication::setApplicationName("test_ui");
        // A layer with a strict shape rule, so that a refused wire does not depend on which
        // layer families this build has.
        const_cast<LayerRegistry&>(LayerRegistry::instance()).add({
            .id = "test_needs_4d",
            .label = "Needs 4-D",
            .category = "Test",
            .doc = "Accepts only (N, C, H, W).",
            .inputs = {{"in", "(N, C, H, W)"}},
            .outputs = {{"out", "the input"}},
            .infer = [](const LayerContext& c) -> Result<LayerInfo> {
                if (c.shape(0).rank() != 4) {
                    return fail("expects a 4-D input (N, C, H, W) but " + c.gives(0));
                }
                LayerInfo info;
                info.outputs.push_back({c.shape(0), DType::Float32});
                return info;
            },
        });
        // Another test file may have made the application already.
        if (auto* existing = qobject_cast<QApplication*>(QCoreApplication::instance())) {
            return existing;
        }
        return new QApplication(argc, argv);
    }();
    return *instance;
}

void expectConsistent(const EditorModel& m) {
    auto ok = checkConsistency(m.graph());
    EXPECT_TRUE(ok.ok()) << (ok ? "" : ok.message());
    // Every node has a place on the canvas, and nothing else does.
    EXPECT_EQ(m.document().layout.size(), m.graph().nodes().size());
    for (const auto& [id, n] : m.graph().nodes()) EXPECT_TRUE(m.document().layout.count(n.name));
}

class Editor : public ::testing::Test {
protected:
    void SetUp() override {
        app();
        QApplication::clipboard()->clear();
        MainWindow::Options o;
        o.interactive = false;
        o.offerRecovery = false;
        o.restoreSettings = false;
        window = std::make_unique<MainWindow>(o);
        window->resize(1300, 850);
        window->show();
        window->startDocument(Document{});
        view()->resetTransform();
        view()->centerOn(400, 100);
        QApplication::processEvents();
    }

    EditorModel* model() { return window->model(); }
    GraphScene* scene() { return window->scene(); }
    GraphView* view() { return window->view(); }
    const Graph& graph() { return model()->graph(); }

    NodeId add(const std::string& type, QPointF at, Params params = {}) {
        auto id = scene()->addLayer(type, at);
        EXPECT_TRUE(id.ok()) << (id ? "" : id.message());
        for (const auto& [k, v] : params) {
            EXPECT_TRUE(model()->push(new SetParamCommand(model(), *id, k, v)).ok());
        }
        return *id;
    }

    QPoint portPos(NodeId node, const std::string& port, bool output) {
        PortItem* p = scene()->nodeItem(node)->port(port, output);
        EXPECT_NE(p, nullptr) << port;
        return view()->mapFromScene(p->anchor());
    }

    void mouse(QEvent::Type type, QPoint pos, Qt::MouseButton button, Qt::MouseButtons buttons) {
        QWidget* vp = view()->viewport();
        QMouseEvent e(type, QPointF(pos), QPointF(vp->mapToGlobal(pos)), button, buttons,
                      Qt::NoModifier);
        QApplication::sendEvent(vp, &e);
    }

    // Press on one point, move there in a few steps, release.
    void drag(QPoint from, QPoint to, std::function<void()> whileHeld = {}) {
        mouse(QEvent::MouseButtonPress, from, Qt::LeftButton, Qt::LeftButton);
        for (int i = 1; i <= 4; ++i) {
            mouse(QEvent::MouseMove, from + (to - from) * i / 4, Qt::NoButton, Qt::LeftButton);
        }
        if (whileHeld) whileHeld();
        mouse(QEvent::MouseButtonRelease, to, Qt::LeftButton, Qt::NoButton);
        QApplication::processEvents();
    }

    void wire(NodeId a, const std::string& out, NodeId b, const std::string& in) {
        drag(portPos(a, out, true), portPos(b, in, false));
    }

    const TensorType* outputOf(NodeId id) {
        return model()->analysis().outputType({id, "out"}, graph());
    }

    QAction* action(const QString& text) {
        for (QAction* menu : window->menuBar()->actions()) {
            for (QAction* a : menu->menu()->actions()) {
                if (a->text() == text) return a;
            }
        }
        ADD_FAILURE() << "no menu action " << text.toStdString();
        return nullptr;
    }

    std::unique_ptr<MainWindow> window;
};

TEST_F(Editor, DroppingAPaletteItemCentresTheNodeOnTheDropPoint) {
    // A zoomed and panned view, so that view and scene coordinates differ.
    view()->resetTransform();
    view()->scale(1.5, 1.5);
    view()->centerOn(-230, 140);
    QApplication::processEvents();
    // add (2 input ports) is taller than linear; both must land centred.
    for (const char* type : {"linear", "add"}) {
        SCOPED_TRACE(type);
        QTreeWidgetItem* item = window->palette()->itemFor(type);
        ASSERT_NE(item, nullptr);
        QWidget* vp = view()->viewport();
        const QPoint at = std::string(type) == "linear" ? QPoint(420, 260) : QPoint(180, 530);
        std::unique_ptr<QMimeData> mime(window->palette()->tree()->dragData(item));
        ASSERT_NE(mime, nullptr);

        QDragEnterEvent enter(at, Qt::CopyAction, mime.get(), Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(vp, &enter);
        EXPECT_TRUE(enter.isAccepted());
        QDragMoveEvent move(at, Qt::CopyAction, mime.get(), Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(vp, &move);
        QDropEvent drop(QPointF(at), Qt::CopyAction, mime.get(), Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(vp, &drop);
        EXPECT_TRUE(drop.isAccepted());

        ASSERT_EQ(graph().nodes().size(), 1u);
        const Node& n = graph().nodes().begin()->second;
        EXPECT_EQ(n.type, type);
        NodeItem* ni = scene()->nodeItem(n.id);
        ASSERT_NE(ni, nullptr);
        // The node's middle is under the cursor, where the person let go.
        const QPointF dropped = view()->mapToScene(at);
        const QPointF centre = ni->sceneBoundingRect().center();
        EXPECT_NEAR(centre.x(), dropped.x(), 1.5);
        EXPECT_NEAR(centre.y(), dropped.y(), 1.5);
        // ...also on screen, and the document stores the position the item shows.
        const QPoint onScreen = view()->mapFromScene(centre);
        EXPECT_LE((onScreen - at).manhattanLength(), 2);
        EXPECT_EQ(ni->pos(), model()->position(n.id));
        // The new node is selected and shown in the inspector.
        EXPECT_EQ(window->inspector()->node(), n.id);
        expectConsistent(*model());

        // One undo takes the drop back completely.
        model()->undoStack()->undo();
        EXPECT_TRUE(graph().nodes().empty());
        EXPECT_EQ(scene()->nodeItem(n.id), nullptr);
        expectConsistent(*model());
    }
}

TEST_F(Editor, DoubleClickInThePaletteAddsTheLayerAtTheViewCentre) {
    QTreeWidgetItem* item = window->palette()->itemFor("relu");
    ASSERT_NE(item, nullptr);
    emit window->palette()->tree()->itemDoubleClicked(item, 0);
    ASSERT_EQ(graph().nodes().size(), 1u);
    NodeItem* ni = scene()->nodeItem(graph().nodes().begin()->first);
    QPointF centre = view()->mapToScene(view()->viewport()->rect().center());
    EXPECT_TRUE(ni->sceneBoundingRect().adjusted(-60, -60, 60, 60).contains(centre));
}

TEST_F(Editor, PaletteSearchHidesLayersThatDoNotMatch) {
    window->palette()->searchField()->setText("flat");
    EXPECT_FALSE(window->palette()->itemFor("flatten")->isHidden());
    EXPECT_TRUE(window->palette()->itemFor("relu")->isHidden());
    window->palette()->searchField()->clear();
    EXPECT_FALSE(window->palette()->itemFor("relu")->isHidden());
}

TEST_F(Editor, WiringTwoPortsWithTheMouseLinksThemAndShapesFlowDownstream) {
    NodeId in = add("input", {0, 0}, {{"shape", std::vector<int64_t>{1, 28, 28}}});
    NodeId flat = add("flatten", {300, 0});
    NodeId fc = add("linear", {600, 0}, {{"out_features", int64_t{10}}});
    EXPECT_EQ(outputOf(fc), nullptr);  // nothing feeds it yet

    wire(in, "out", flat, "in");
    ASSERT_EQ(graph().links().size(), 1u);
    const Link& l = graph().links().begin()->second;
    EXPECT_EQ(l.from, (PortRef{in, "out"}));
    EXPECT_EQ(l.to, (PortRef{flat, "in"}));
    ASSERT_NE(outputOf(flat), nullptr);
    EXPECT_EQ(outputOf(flat)->shape, Shape({Shape::kBatch, 784}));
    EXPECT_EQ(scene()->linkItem(l.id)->label(), "(N, 1, 28, 28)");

    wire(flat, "out", fc, "in");
    ASSERT_EQ(graph().links().size(), 2u);
    ASSERT_NE(outputOf(fc), nullptr);
    EXPECT_EQ(outputOf(fc)->shape, Shape({Shape::kBatch, 10}));
    EXPECT_EQ(scene()->nodeItem(fc)->shapesText(), "(N, 10)");
    EXPECT_TRUE(scene()->nodeItem(fc)->errorText().isEmpty());
    expectConsistent(*model());
}

TEST_F(Editor, AnIncompatibleWireIsRefusedWithTheReasonAndCompatiblePortsLightUp) {
    NodeId in = add("input", {0, 0}, {{"shape", std::vector<int64_t>{10}}});
    NodeId fc = add("linear", {300, -150});
    NodeId strict = add("test_needs_4d", {300, 150});
    const Graph before = graph();

    PortItem* fcIn = scene()->nodeItem(fc)->port("in", false);
    PortItem* strictIn = scene()->nodeItem(strict)->port("in", false);
    drag(portPos(in, "out", true), portPos(strict, "in", false), [&] {
        EXPECT_EQ(fcIn->highlight(), PortItem::Highlight::Compatible);
        EXPECT_EQ(strictIn->highlight(), PortItem::Highlight::Incompatible);
        // Before the button is released, the status bar already says why this port refuses.
        EXPECT_TRUE(window->statusBar()->currentMessage().contains("expects a 4-D input"))
            << window->statusBar()->currentMessage().toStdString();
    });
    EXPECT_EQ(fcIn->highlight(), PortItem::Highlight::None);

    EXPECT_TRUE(graph() == before);
    EXPECT_TRUE(scene()->lastMessage().contains("expects a 4-D input")) << scene()->lastMessage().toStdString();
    EXPECT_TRUE(window->statusBar()->currentMessage().contains("gives (N, 10)"))
        << window->statusBar()->currentMessage().toStdString();
    EXPECT_EQ(model()->undoStack()->count(), 4);  // three adds and a param, no connect

    // A wire that would close a cycle is refused too.
    wire(in, "out", fc, "in");
    ASSERT_EQ(graph().links().size(), 1u);
    NodeId fc2 = add("linear", {600, -150});
    wire(fc, "out", fc2, "in");
    wire(fc2, "out", fc, "in");
    EXPECT_EQ(graph().links().size(), 2u);
    EXPECT_TRUE(scene()->lastMessage().contains("already has a source") ||
                scene()->lastMessage().contains("cycle"))
        << scene()->lastMessage().toStdString();
    expectConsistent(*model());
}

TEST_F(Editor, UndoAndRedoRestoreTheExactGraphAfterEveryKindOfEdit) {
    struct Snapshot {
        Graph graph;
        std::map<std::string, NodeLayout> layout;
    };
    std::vector<Snapshot> states{{graph(), model()->document().layout}};
    auto record = [&] {
        expectConsistent(*model());
        states.push_back({graph(), model()->document().layout});
    };

    NodeId in = add("input", {0, 0});
    record();
    (void)model()->push(new SetParamCommand(model(), in, "shape", std::vector<int64_t>{3, 8, 8}));
    record();
    NodeId flat = add("flatten", {250, 40});
    record();
    NodeId fc = add("linear", {500, 0});
    record();
    wire(in, "out", flat, "in");
    record();
    wire(flat, "out", fc, "in");
    record();
    ASSERT_TRUE(model()->push(new RenameCommand(model(), fc, "classifier")).ok());
    record();
    drag(view()->mapFromScene(scene()->nodeItem(flat)->sceneBoundingRect().center() + QPointF(0, -20)),
         view()->mapFromScene(scene()->nodeItem(flat)->sceneBoundingRect().center() + QPointF(60, 90)));
    record();
    scene()->selectNodes({flat, fc});
    scene()->duplicateSelection();
    record();
    scene()->selectNodes({flat});
    action("De&lete")->trigger();
    record();
    scene()->autoLayoutNodes();
    record();

    // One command per edit: the drag above is a single move however many steps it took.
    const int edits = static_cast<int>(states.size()) - 1;
    EXPECT_EQ(model()->undoStack()->count(), edits);
    EXPECT_EQ(model()->undoStack()->command(7)->text(), "Move 1 node");

    for (int i = edits; i > 0; --i) {
        model()->undoStack()->undo();
        expectConsistent(*model());
        ASSERT_TRUE(graph() == states[static_cast<size_t>(i - 1)].graph) << "after undo " << i;
        ASSERT_EQ(model()->document().layout, states[static_cast<size_t>(i - 1)].layout);
        // The canvas shows the model: one item per node, at the model's place.
        for (const auto& [id, n] : graph().nodes()) {
            ASSERT_NE(scene()->nodeItem(id), nullptr);
            EXPECT_EQ(scene()->nodeItem(id)->pos(), model()->position(id));
        }
    }
    for (int i = 1; i <= edits; ++i) {
        model()->undoStack()->redo();
        expectConsistent(*model());
        ASSERT_TRUE(graph() == states[static_cast<size_t>(i)].graph) << "after redo " << i;
        ASSERT_EQ(model()->document().layout, states[static_cast<size_t>(i)].layout);
    }
}

TEST_F(Editor, TheEditMenuNamesWhatUndoWillUndo) {
    add("linear", {0, 0});
    QAction* undo = action("&Undo Add linear 'linear1'");
    ASSERT_NE(undo, nullptr);
    undo->trigger();
    EXPECT_TRUE(graph().empty());
}

TEST_F(Editor, TypingInTheInspectorChangesTheShapeOnTheCanvas) {
    NodeId in = add("input", {0, 0}, {{"shape", std::vector<int64_t>{1, 28, 28}}});
    NodeId flat = add("flatten", {250, 0});
    NodeId fc = add("linear", {500, 0});
    ASSERT_TRUE(model()->push(new ConnectCommand(model(), {in, "out"}, {flat, "in"})).ok());
    ASSERT_TRUE(model()->push(new ConnectCommand(model(), {flat, "out"}, {fc, "in"})).ok());
    scene()->selectNodes({fc});
    ASSERT_EQ(window->inspector()->node(), fc);
    auto* spin = qobject_cast<QSpinBox*>(window->inspector()->editor("out_features"));
    ASSERT_NE(spin, nullptr);
    EXPECT_EQ(spin->value(), 64);
    EXPECT_EQ(scene()->nodeItem(fc)->shapesText(), "(N, 64)");

    const int before = model()->undoStack()->count();
    spin->setFocus();
    spin->selectAll();
    QTest::keyClicks(spin, "10");
    EXPECT_EQ(getInt(graph().node(fc)->params, "out_features"), 10);
    EXPECT_EQ(scene()->nodeItem(fc)->shapesText(), "(N, 10)");
    EXPECT_EQ(window->inspector()->shapesText(), "(N, 10)");
    EXPECT_EQ(model()->undoStack()->count(), before + 1);  // "1" then "10": one step
    model()->undoStack()->undo();
    EXPECT_EQ(getInt(graph().node(fc)->params, "out_features"), 64);
    EXPECT_EQ(spin->value(), 64);

    // A shape typed on the input flows to the flatten and the linear's weights.
    scene()->selectNodes({in});
    auto* shape = qobject_cast<QLineEdit*>(window->inspector()->editor("shape"));
    ASSERT_NE(shape, nullptr);
    shape->selectAll();
    QTest::keyClicks(shape, "3, 8, 8");
    EXPECT_EQ(outputOf(flat)->shape, Shape({Shape::kBatch, 192}));
    EXPECT_EQ(model()->analysis().nodes.at(fc).parameters, 192 * 64 + 64);

    // Invalid values are refused in place with the reason; the graph keeps the last good one
    // (while typing "3, x", that is "3").
    shape->selectAll();
    QTest::keyClicks(shape, "3, x");
    EXPECT_TRUE(window->inspector()->refusal("shape").contains("not a whole number"));
    EXPECT_EQ(getShape(graph().node(in)->params, "shape"), (std::vector<int64_t>{3}));
    shape->selectAll();
    QTest::keyClicks(shape, "5, 0, 8");
    EXPECT_TRUE(window->inspector()->refusal("shape").contains("must be"))
        << window->inspector()->refusal("shape").toStdString();
    EXPECT_EQ(getShape(graph().node(in)->params, "shape"), (std::vector<int64_t>{5}));
    shape->selectAll();
    QTest::keyClicks(shape, "2, 4, 4");
    EXPECT_TRUE(window->inspector()->refusal("shape").isEmpty());
    EXPECT_EQ(outputOf(flat)->shape, Shape({Shape::kBatch, 32}));

    // Renaming to a taken name is refused with the reason.
    QLineEdit* name = window->inspector()->nameEditor();
    name->setText("flatten1");
    emit name->editingFinished();
    EXPECT_EQ(graph().node(in)->name, "input1");
    name->setText("pixels");
    emit name->editingFinished();
    EXPECT_EQ(graph().node(in)->name, "pixels");
    EXPECT_EQ(scene()->nodeItem(in)->nameText(), "pixels");
    expectConsistent(*model());
}

TEST_F(Editor, DeleteRemovesNodesWithTheirLinksAndUndoBringsThemBack) {
    NodeId in = add("input", {0, 0});
    NodeId fc = add("linear", {250, 0});
    NodeId act = add("relu", {500, 0});
    wire(in, "out", fc, "in");
    wire(fc, "out", act, "in");
    ASSERT_EQ(graph().links().size(), 2u);
    const Graph before = graph();
    const auto layoutBefore = model()->document().layout;

    scene()->selectNodes({fc});
    action("De&lete")->trigger();
    EXPECT_EQ(graph().node(fc), nullptr);
    EXPECT_TRUE(graph().links().empty());
    EXPECT_EQ(scene()->nodeItem(fc), nullptr);
    EXPECT_EQ(window->inspector()->node(), NodeId{});
    expectConsistent(*model());

    model()->undoStack()->undo();
    EXPECT_TRUE(graph() == before);
    EXPECT_EQ(model()->document().layout, layoutBefore);
    EXPECT_NE(scene()->nodeItem(fc), nullptr);
    EXPECT_EQ(scene()->nodeItem(fc)->pos(), QPointF(250, 0));
    expectConsistent(*model());

    // A selected link alone can be deleted too.
    scene()->clearSelection();
    scene()->linkItem(graph().links().begin()->first)->setSelected(true);
    action("De&lete")->trigger();
    EXPECT_EQ(graph().links().size(), 1u);
    EXPECT_EQ(graph().nodes().size(), 3u);
}

TEST_F(Editor, CopyPasteKeepsInternalLinksAndMakesNamesUnique) {
    NodeId in = add("input", {0, 0});
    NodeId fc = add("linear", {250, 0}, {{"out_features", int64_t{7}}});
    NodeId act = add("relu", {500, 0});
    wire(in, "out", fc, "in");
    wire(fc, "out", act, "in");

    scene()->selectNodes({fc, act});
    action("&Copy")->trigger();
    action("&Paste")->trigger();
    ASSERT_EQ(graph().nodes().size(), 5u);
    auto pasted = scene()->selectedNodes();
    ASSERT_EQ(pasted.size(), 2u);
    const Node* fcCopy = nullptr;
    const Node* actCopy = nullptr;
    for (NodeId id : pasted) {
        const Node* n = graph().node(id);
        (n->type == "linear" ? fcCopy : actCopy) = n;
    }
    ASSERT_TRUE(fcCopy && actCopy);
    EXPECT_EQ(fcCopy->name, "linear2");
    EXPECT_EQ(actCopy->name, "relu2");
    EXPECT_EQ(getInt(fcCopy->params, "out_features"), 7);
    // The link between the copies is there; the one from the (uncopied) input is not.
    ASSERT_NE(graph().linkInto(actCopy->id, "in"), nullptr);
    EXPECT_EQ(graph().linkInto(actCopy->id, "in")->from.node, fcCopy->id);
    EXPECT_EQ(graph().linkInto(fcCopy->id, "in"), nullptr);
    EXPECT_EQ(graph().links().size(), 3u);
    EXPECT_EQ(model()->position(fcCopy->id), QPointF(290, 40));
    expectConsistent(*model());

    action("&Paste")->trigger();
    EXPECT_EQ(graph().nodes().size(), 7u);
    EXPECT_NE(graph().nodeByName("linear3"), nullptr);
    expectConsistent(*model());

    // Cut removes, paste brings the nodes back under their own names.
    scene()->selectNodes({act});
    action("Cu&t")->trigger();
    EXPECT_EQ(graph().nodeByName("relu1"), nullptr);
    action("&Paste")->trigger();
    EXPECT_NE(graph().nodeByName("relu1"), nullptr);
    expectConsistent(*model());
}

TEST_F(Editor, AutoLayoutOrdersNodesLeftToRightByDepth) {
    // Placed backwards on purpose.
    NodeId act = add("relu", {-600, 300});
    NodeId fc = add("linear", {0, -200});
    NodeId flat = add("flatten", {400, 100});
    NodeId in = add("input", {900, 0});
    wire(in, "out", flat, "in");
    wire(flat, "out", fc, "in");
    wire(fc, "out", act, "in");
    const auto before = model()->document().layout;

    action("&Auto Layout")->trigger();
    const double xIn = model()->position(in).x(), xFlat = model()->position(flat).x();
    const double xFc = model()->position(fc).x(), xAct = model()->position(act).x();
    EXPECT_LT(xIn, xFlat);
    EXPECT_LT(xFlat, xFc);
    EXPECT_LT(xFc, xAct);
    // Columns are wide enough that nodes never overlap.
    EXPECT_GT(xFlat - xIn, NodeItem::kWidth);
    EXPECT_EQ(scene()->nodeItem(act)->pos(), model()->position(act));

    model()->undoStack()->undo();
    EXPECT_EQ(model()->document().layout, before);
}

TEST_F(Editor, ProblemsListInvalidNodesAndClickingOneSelectsIt) {
    NodeId in = add("input", {0, 0}, {{"shape", std::vector<int64_t>{10}}});
    NodeId strict = add("test_needs_4d", {300, 0});
    ASSERT_TRUE(model()->push(new ConnectCommand(model(), {in, "out"}, {strict, "in"})).ok());
    ASSERT_FALSE(model()->analysis().ok());
    EXPECT_FALSE(scene()->nodeItem(strict)->errorText().isEmpty());
    EXPECT_TRUE(scene()->nodeItem(strict)->toolTip().contains("expects a 4-D input"));

    QListWidget* problems = window->problemsList();
    QListWidgetItem* entry = nullptr;
    for (int i = 0; i < problems->count(); ++i) {
        if (problems->item(i)->text().contains("expects a 4-D input")) entry = problems->item(i);
    }
    ASSERT_NE(entry, nullptr);
    EXPECT_TRUE(entry->toolTip().startsWith(QString::fromStdString(
        model()->analysis().nodes.at(strict).error)));  // the whole sentence, however narrow
    scene()->clearSelection();
    // Far from the node, so that clicking the entry has to bring it into view.
    view()->centerOn(-5000, -5000);
    QTest::mouseClick(problems->viewport(), Qt::LeftButton, {},
                      problems->visualItemRect(entry).center());
    EXPECT_EQ(scene()->selectedNodes(), std::vector<NodeId>{strict});
    const QPoint shown =
        view()->mapFromScene(scene()->nodeItem(strict)->sceneBoundingRect().center());
    const QPoint middle = view()->viewport()->rect().center();
    EXPECT_LE((shown - middle).manhattanLength(), 4) << shown.x() << "," << shown.y();
    EXPECT_EQ(window->inspector()->node(), strict);
    EXPECT_TRUE(window->stateLabel()->text().contains("error"));
}

TEST_F(Editor, WheelZoomKeepsThePointUnderTheCursor) {
    add("linear", {0, 0});
    const QPoint cursor(300, 200);
    const QPointF before = view()->mapToScene(cursor);
    QWheelEvent wheel(QPointF(cursor), QPointF(view()->viewport()->mapToGlobal(cursor)), QPoint(),
                      QPoint(0, 240), Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(view()->viewport(), &wheel);
    EXPECT_GT(view()->zoom(), 1.2);
    const QPointF after = view()->mapToScene(cursor);
    EXPECT_NEAR(after.x(), before.x(), 1.0);
    EXPECT_NEAR(after.y(), before.y(), 1.0);
}

TEST_F(Editor, RubberBandSelectsTheNodesItCovers) {
    NodeId a = add("linear", {0, 0});
    NodeId b = add("relu", {260, 0});
    NodeId c = add("relu", {0, 400});
    scene()->clearSelection();
    QPoint from = view()->mapFromScene(QPointF(-30, -30));
    QPoint to = view()->mapFromScene(QPointF(520, 150));
    drag(from, to);
    auto selected = scene()->selectedNodes();
    EXPECT_EQ(selected, (std::vector<NodeId>{a, b}));
    (void)c;
}

TEST_F(Editor, SaveThenOpenGivesTheSameDocument) {
    NodeId in = add("input", {0, 0}, {{"shape", std::vector<int64_t>{1, 28, 28}}});
    NodeId flat = add("flatten", {260, 10});
    wire(in, "out", flat, "in");
    QTemporaryDir dir;
    const QString path = dir.filePath("saved.strata.json");
    ASSERT_TRUE(window->saveDocument(path).ok());
    EXPECT_FALSE(window->isModified());
    const Graph savedGraph = graph();
    const auto savedLayout = model()->document().layout;

    window->startDocument(Document{});
    ASSERT_TRUE(graph().empty());
    auto opened = window->openDocument(path);
    ASSERT_TRUE(opened.ok()) << (opened ? "" : opened.message());
    EXPECT_TRUE(graph() == savedGraph);
    EXPECT_EQ(model()->document().layout, savedLayout);
    EXPECT_EQ(window->documentPath(), QFileInfo(path).absoluteFilePath());

    // A whole sample, edited: dataset binding, training settings, name and layout come back too.
    ASSERT_TRUE(
        window->openDocument(STRATA_SOURCE_DIR "/samples/digits-cnn/digits-cnn.strata.json").ok());
    const NodeId conv = graph().nodeByName("conv1")->id;
    ASSERT_TRUE(
        model()->push(new SetParamCommand(model(), conv, "out_channels", int64_t{12})).ok());
    const QString samplePath = dir.filePath("digits.strata.json");
    ASSERT_TRUE(window->saveDocument(samplePath).ok());
    const nlohmann::json saved = toJson(model()->document());
    ASSERT_TRUE(model()->document().dataset.has_value());
    window->startDocument(Document{});
    ASSERT_TRUE(window->openDocument(samplePath).ok());
    EXPECT_EQ(toJson(model()->document()), saved);
    EXPECT_EQ(getInt(graph().node(conv)->params, "out_channels"), 12);
}

TEST_F(Editor, EveryTemplateOnTheStartPageOpensATrainableGraph) {
    for (const TemplateInfo& t : templates()) {
        window->showStartPage();
        auto* button = window->findChild<QPushButton*>("template_" + t.id);
        ASSERT_NE(button, nullptr) << t.id.toStdString();
        ASSERT_TRUE(button->isEnabled()) << button->toolTip().toStdString();
        QTest::mouseClick(button, Qt::LeftButton);
        EXPECT_FALSE(window->startPageShown());
        EXPECT_FALSE(graph().empty());
        // Known gap in core: an input node cannot declare a per-sample shape of () so class ids
        // arrive as (N, 1) where cross_entropy wants (N,). Only that problem is tolerated.
        for (const Problem& p : model()->analysis().problems) {
            if (p.message.find("expects targets (N,)") == std::string::npos) ADD_FAILURE() << p.message;
        }
        for (const Problem& p : model()->trainingIssues()) ADD_FAILURE() << p.message;
        expectConsistent(*model());
        EXPECT_FALSE(window->isModified());
        EXPECT_EQ(window->problemsList()->count(),
                  static_cast<int>(model()->analysis().problems.size()));
    }
}

TEST_F(Editor, TheWindowRendersTheGraph) {
    applyStudioStyle();
    window->resize(1600, 900);
    window->showStartPage();
    QTest::mouseClick(window->findChild<QPushButton*>("template_transformer"), Qt::LeftButton);
    ASSERT_FALSE(graph().empty());
    NodeId conv = graph().nodeByName("block1")->id;
    scene()->selectNodes({conv});
    view()->fitGraph();
    QApplication::processEvents();
    QImage shot = window->grab().toImage();
    ASSERT_FALSE(shot.isNull());
    // The selected node's header is drawn in its category colour, not the canvas grey.
    QPoint header = view()->mapFromScene(scene()->nodeItem(conv)->mapToScene(QPointF(5, 14)));
    header = view()->viewport()->mapTo(window.get(), header);
    QColor c = shot.pixelColor(header * shot.devicePixelRatio());
    EXPECT_GT(c.hsvSaturation(), 80) << c.name().toStdString();
    EXPECT_EQ(window->inspector()->shapesText(), "(N, 32, 64)");
    const QString target = qEnvironmentVariable("STRATA_SCREENSHOT");
    if (!target.isEmpty()) shot.save(target);
}

TEST_F(Editor, ThePaletteListsEveryLayerUnderItsCategoryWithItsDocAsTooltip) {
    int layers = 0;
    for (const LayerSpec& spec : LayerRegistry::instance().all()) {
        QTreeWidgetItem* item = window->palette()->itemFor(QString::fromStdString(spec.id));
        ASSERT_NE(item, nullptr) << spec.id;
        ASSERT_NE(item->parent(), nullptr) << spec.id;
        EXPECT_EQ(item->parent()->text(0).toStdString(), spec.category);
        EXPECT_EQ(item->text(0).toStdString(), spec.label);
        EXPECT_TRUE(item->toolTip(0).contains(QString::fromStdString(spec.doc).toHtmlEscaped()))
            << spec.id << ": " << item->toolTip(0).toStdString();
        ++layers;
    }
    EXPECT_GT(layers, 20);
    EXPECT_EQ(window->palette()->tree()->topLevelItemCount(),
              static_cast<int>(LayerRegistry::instance().categories().size()));
    // Searching by what a layer does finds it too; a group with no match disappears.
    window->palette()->searchField()->setText("convolution");
    EXPECT_FALSE(window->palette()->itemFor("conv2d")->isHidden());
    EXPECT_TRUE(window->palette()->itemFor("linear")->isHidden());
    EXPECT_TRUE(window->palette()->itemFor("cross_entropy")->parent()->isHidden());
}

TEST_F(Editor, NodesShowTypeNameOutputShapeAndParameterCount) {
    NodeId in = add("input", {0, 0}, {{"shape", std::vector<int64_t>{12}}});
    NodeId fc = add("linear", {300, 0}, {{"out_features", int64_t{5}}});
    wire(in, "out", fc, "in");
    NodeItem* item = scene()->nodeItem(fc);
    EXPECT_EQ(item->typeText(), "linear");
    EXPECT_EQ(item->nameText(), "linear1");
    EXPECT_EQ(item->shapesText(), "(N, 5)");
    EXPECT_EQ(item->paramsText(), "65 params");  // 12 * 5 weights + 5 biases
    EXPECT_EQ(scene()->nodeItem(in)->paramsText(), "no params");
    EXPECT_EQ(scene()->nodeItem(in)->shapesText(), "(N, 12)");
}

TEST_F(Editor, DraggingTwoSelectedNodesIsOneUndoStepNamedInTheEditMenu) {
    NodeId a = add("linear", {0, 0});
    NodeId b = add("relu", {300, 0});
    scene()->selectNodes({a, b});
    const int before = model()->undoStack()->count();
    const QPointF grip = scene()->nodeItem(a)->mapToScene(QPointF(60, 10));  // the header
    drag(view()->mapFromScene(grip), view()->mapFromScene(grip + QPointF(80, 120)));
    EXPECT_EQ(model()->position(a), QPointF(80, 120));
    EXPECT_EQ(model()->position(b), QPointF(380, 120));
    EXPECT_EQ(model()->undoStack()->count(), before + 1);

    QAction* undo = action("&Undo Move 2 nodes");
    ASSERT_NE(undo, nullptr);
    undo->trigger();
    EXPECT_EQ(model()->position(a), QPointF(0, 0));
    EXPECT_EQ(model()->position(b), QPointF(300, 0));
    EXPECT_EQ(scene()->nodeItem(b)->pos(), QPointF(300, 0));
    EXPECT_NE(action("&Redo Move 2 nodes"), nullptr);
    // The keyboard does the same.
    window->activateWindow();
    view()->setFocus();
    QTest::keyClick(view(), Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
    EXPECT_EQ(model()->position(b), QPointF(380, 120));
    QTest::keyClick(view(), Qt::Key_Z, Qt::ControlModifier);
    EXPECT_EQ(model()->position(b), QPointF(300, 0));
}

TEST_F(Editor, ClickingANodeSelectsItAndShowsItInTheInspector) {
    NodeId a = add("linear", {0, 0});
    NodeId b = add("relu", {300, 0});
    scene()->clearSelection();
    EXPECT_EQ(window->inspector()->node(), NodeId{});
    const QPoint onB = view()->mapFromScene(scene()->nodeItem(b)->mapToScene(QPointF(100, 40)));
    mouse(QEvent::MouseButtonPress, onB, Qt::LeftButton, Qt::LeftButton);
    mouse(QEvent::MouseButtonRelease, onB, Qt::LeftButton, Qt::NoButton);
    EXPECT_EQ(scene()->selectedNodes(), std::vector<NodeId>{b});
    EXPECT_EQ(window->inspector()->node(), b);
    EXPECT_EQ(window->inspector()->nameEditor()->text(), "relu1");
    // A click on the empty canvas clears the selection and the inspector.
    const QPoint empty = view()->mapFromScene(QPointF(150, 400));
    mouse(QEvent::MouseButtonPress, empty, Qt::LeftButton, Qt::LeftButton);
    mouse(QEvent::MouseButtonRelease, empty, Qt::LeftButton, Qt::NoButton);
    QApplication::processEvents();
    EXPECT_TRUE(scene()->selectedNodes().empty());
    EXPECT_EQ(window->inspector()->node(), NodeId{});
    // A click without a move is no edit.
    EXPECT_EQ(model()->undoStack()->count(), 2);
    (void)a;
}

TEST_F(Editor, TwoTypingSessionsInOneFieldAreTwoUndoSteps) {
    NodeId fc = add("linear", {0, 0});
    scene()->selectNodes({fc});
    auto* spin = qobject_cast<QSpinBox*>(window->inspector()->editor("out_features"));
    ASSERT_NE(spin, nullptr);
    spin->setFocus();
    spin->selectAll();
    QTest::keyClicks(spin, "10");
    QTest::keyClick(spin, Qt::Key_Return);
    spin->selectAll();
    QTest::keyClicks(spin, "20");
    QTest::keyClick(spin, Qt::Key_Return);
    EXPECT_EQ(getInt(graph().node(fc)->params, "out_features"), 20);
    model()->undoStack()->undo();
    EXPECT_EQ(getInt(graph().node(fc)->params, "out_features"), 10);
    model()->undoStack()->undo();
    EXPECT_EQ(getInt(graph().node(fc)->params, "out_features"), 64);
}

TEST_F(Editor, ANumberOutsideItsRangeIsRefusedInPlaceWithTheReason) {
    NodeId in = add("input", {0, 0}, {{"shape", std::vector<int64_t>{8}}});
    NodeId fc = add("linear", {300, 0});
    NodeId drop = add("dropout", {600, 0});
    wire(in, "out", fc, "in");
    scene()->selectNodes({fc});
    auto* spin = qobject_cast<QSpinBox*>(window->inspector()->editor("out_features"));
    ASSERT_NE(spin, nullptr);
    // The editor carries the parameter's range.
    EXPECT_EQ(spin->minimum(), 1);
    EXPECT_EQ(spin->maximum(), 1 << 20);
    spin->setFocus();
    spin->selectAll();
    QTest::keyClicks(spin, "0");  // below the minimum of 1
    EXPECT_EQ(getInt(graph().node(fc)->params, "out_features"), 64);
    EXPECT_TRUE(window->inspector()->refusal("out_features").contains("must be"))
        << window->inspector()->refusal("out_features").toStdString();
    // A good value clears the complaint and reaches the canvas.
    QTest::keyClick(spin, Qt::Key_Backspace);
    QTest::keyClicks(spin, "7");
    EXPECT_TRUE(window->inspector()->refusal("out_features").isEmpty());
    EXPECT_EQ(scene()->nodeItem(fc)->shapesText(), "(N, 7)");

    scene()->selectNodes({drop});
    auto* p = qobject_cast<QDoubleSpinBox*>(window->inspector()->editor("p"));
    ASSERT_NE(p, nullptr);
    p->setFocus();
    p->selectAll();
    QTest::keyClicks(p, "1.5");
    EXPECT_EQ(getFloat(graph().node(drop)->params, "p"), 0.5);
    EXPECT_TRUE(window->inspector()->refusal("p").contains("1.5"))
        << window->inspector()->refusal("p").toStdString();
    // Leaving the field brings back the accepted value, without the complaint.
    QTest::keyClick(p, Qt::Key_Return);
    EXPECT_TRUE(window->inspector()->refusal("p").isEmpty());
    EXPECT_EQ(p->value(), 0.5);
}

TEST_F(Editor, SelectAllDuplicateAndDeleteWorkFromTheEditMenu) {
    NodeId in = add("input", {0, 0});
    NodeId fc = add("linear", {300, 0});
    wire(in, "out", fc, "in");
    scene()->clearSelection();
    action("Select &All")->trigger();
    EXPECT_EQ(scene()->selectedNodes().size(), 2u);
    EXPECT_EQ(scene()->selectedLinks().size(), 1u);

    action("&Duplicate")->trigger();
    ASSERT_EQ(graph().nodes().size(), 4u);
    EXPECT_EQ(graph().links().size(), 2u);  // the copy's own link, between the copies
    const Node* fc2 = graph().nodeByName("linear2");
    const Node* in2 = graph().nodeByName("input2");
    ASSERT_TRUE(fc2 && in2);
    ASSERT_NE(graph().linkInto(fc2->id, "in"), nullptr);
    EXPECT_EQ(graph().linkInto(fc2->id, "in")->from.node, in2->id);
    EXPECT_EQ(model()->undoStack()->undoText(), "Duplicate 2 nodes");
    expectConsistent(*model());

    action("Select &All")->trigger();
    action("De&lete")->trigger();
    EXPECT_TRUE(graph().empty());
    EXPECT_TRUE(scene()->items().isEmpty());
    model()->undoStack()->undo();
    EXPECT_EQ(graph().nodes().size(), 4u);
    EXPECT_EQ(graph().links().size(), 2u);
    expectConsistent(*model());
}

TEST_F(Editor, FitToViewBringsEveryNodeIntoView) {
    NodeId a = add("linear", {0, 0});
    NodeId b = add("relu", {700, 350});
    view()->centerOn(8000, 8000);
    action("&Fit to View")->trigger();
    const QRect visible = view()->viewport()->rect();
    for (NodeId id : {a, b}) {
        QRect r = view()->mapFromScene(scene()->nodeItem(id)->sceneBoundingRect()).boundingRect();
        EXPECT_TRUE(visible.contains(r)) << id.value;
    }
}

TEST_F(Editor, DraggingWithTheMiddleButtonPansTheCanvas) {
    add("linear", {0, 0});
    const QPoint from(200, 200), to(320, 260);
    const QPointF grabbed = view()->mapToScene(from);
    mouse(QEvent::MouseButtonPress, from, Qt::MiddleButton, Qt::MiddleButton);
    mouse(QEvent::MouseMove, (from + to) / 2, Qt::NoButton, Qt::MiddleButton);
    mouse(QEvent::MouseMove, to, Qt::NoButton, Qt::MiddleButton);
    mouse(QEvent::MouseButtonRelease, to, Qt::MiddleButton, Qt::NoButton);
    const QPointF now = view()->mapToScene(to);
    EXPECT_NEAR(now.x(), grabbed.x(), 1.0);
    EXPECT_NEAR(now.y(), grabbed.y(), 1.0);
    EXPECT_EQ(model()->undoStack()->count(), 1);  // panning edits nothing
}

}  // namespace
}  // namespace strata::ui

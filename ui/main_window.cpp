#include "ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDir>
#include <QDirIterator>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QLabel>
#include <QListWidget>
#include <QLockFile>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTimer>
#include <QUndoStack>
#include <QVBoxLayout>

#include "ui/data/dataset_panel.h"
#include "ui/data/image_folder_dataset.h"
#include "ui/inspector/inspector.h"
#include "ui/node_editor/graph_items.h"
#include "ui/node_editor/graph_scene.h"
#include "ui/node_editor/graph_view.h"
#include "ui/node_editor/palette.h"
#include "ui/templates.h"
#include "ui/training/dashboard.h"
#include "ui/training/training_session.h"
#include "ui/try_it/trained_model_tracker.h"
#include "ui/try_it/try_it_panel.h"

namespace strata::ui {

namespace {

constexpr int kMaxRecent = 8;
constexpr int kAutosaveMs = 30'000;
constexpr int kNodeRole = Qt::UserRole + 1;

void removeRecoveryFiles(const QString& recovery);  // with autosave and recovery, below

QString q(const std::string& s) { return QString::fromStdString(s); }

// Where sample projects live: installed beside the binary, or in the source tree.
QStringList sampleFiles() {
    QStringList dirs = {QCoreApplication::applicationDirPath() + "/../share/strata/samples",
                        QCoreApplication::applicationDirPath() + "/../samples",
                        QDir::currentPath() + "/samples", QStringLiteral(STRATA_SAMPLES_DIR)};
    for (const QString& d : dirs) {
        if (!QDir(d).exists()) continue;
        QStringList files;
        QDirIterator it(d, {"*.strata.json"}, QDir::Files, QDirIterator::Subdirectories);
        while (it.hasNext()) files << it.next();
        files.sort();
        if (!files.isEmpty()) return files;
    }
    return {};
}

}  // namespace

void applyStudioStyle() {
    QApplication::setStyle("Fusion");
    QPalette p;
    const QColor window(0x2f, 0x31, 0x36), base(0x25, 0x27, 0x2b), text(0xdc, 0xde, 0xe2);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, window);
    p.setColor(QPalette::ToolTipBase, QColor(0x1e, 0x1f, 0x22));
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, QColor(0x3a, 0x3d, 0x44));
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, Qt::white);
    p.setColor(QPalette::Highlight, QColor(0x4c, 0x8b, 0xc9));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::PlaceholderText, QColor(0x8a, 0x90, 0x9a));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(0x70, 0x74, 0x7a));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0x70, 0x74, 0x7a));
    QApplication::setPalette(p);
}

MainWindow::MainWindow(Options options, QWidget* parent)
    : QMainWindow(parent), m_options(options) {
    setObjectName("MainWindow");
    m_model = new EditorModel(this);
    m_scene = new GraphScene(m_model, this);
    m_view = new GraphView(m_scene);
    m_stack = new QStackedWidget(this);
    buildStartPage();
    m_stack->addWidget(m_startPage);
    m_stack->addWidget(m_view);
    setCentralWidget(m_stack);

    m_palette = new Palette;
    auto* paletteDock = new QDockWidget(tr("Layers"), this);
    paletteDock->setObjectName("paletteDock");
    paletteDock->setWidget(m_palette);
    addDockWidget(Qt::LeftDockWidgetArea, paletteDock);

    m_inspector = new Inspector(m_model);
    auto* scroll = new QScrollArea;
    scroll->setWidget(m_inspector);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto* inspectorDock = new QDockWidget(tr("Inspector"), this);
    inspectorDock->setObjectName("inspectorDock");
    inspectorDock->setWidget(scroll);
    addDockWidget(Qt::RightDockWidgetArea, inspectorDock);

    m_problems = new QListWidget;
    m_problems->setObjectName("problems");
    auto* problemsDock = new QDockWidget(tr("Problems"), this);
    problemsDock->setObjectName("problemsDock");
    problemsDock->setWidget(m_problems);
    addDockWidget(Qt::BottomDockWidgetArea, problemsDock);

    // Relative dataset paths resolve beside the document; an unsaved one uses the working folder.
    m_dashboard = new Dashboard(m_model, [this] { return documentDir(); });
    auto* trainingDock = new QDockWidget(tr("Training"), this);
    trainingDock->setObjectName("trainingDock");
    trainingDock->setWidget(m_dashboard);
    addDockWidget(Qt::BottomDockWidgetArea, trainingDock);
    splitDockWidget(trainingDock, problemsDock, Qt::Horizontal);
    resizeDocks({paletteDock, inspectorDock}, {200, 290}, Qt::Horizontal);
    resizeDocks({trainingDock}, {330}, Qt::Vertical);
    resizeDocks({trainingDock, problemsDock}, {900, 200}, Qt::Horizontal);

    // Dataset panel beside the dashboard, Try-it beside the inspector.
    registerImageFolderFormat();
    m_datasetPanel = new DatasetPanel(m_model, [this] { return documentDir(); });
    auto* datasetDock = new QDockWidget(tr("Dataset"), this);
    datasetDock->setObjectName("datasetDock");
    datasetDock->setWidget(m_datasetPanel);
    tabifyDockWidget(trainingDock, datasetDock);
    m_tryIt = new TryItPanel(m_model, [this] { return documentDir(); });
    auto* tryItDock = new QDockWidget(tr("Try it"), this);
    tryItDock->setObjectName("tryItDock");
    tryItDock->setWidget(m_tryIt);
    tabifyDockWidget(inspectorDock, tryItDock);
    trainingDock->raise();
    inspectorDock->raise();
    resizeDocks({paletteDock, inspectorDock}, {200, 300}, Qt::Horizontal);
    m_trained = new TrainedModelTracker(m_model, m_dashboard, [this] { return documentDir(); },
                                        this);
    connect(m_trained, &TrainedModelTracker::modelChanged, this, [this] {
        if (auto ok = m_tryIt->setModel(m_trained->model()); !ok) {
            statusBar()->showMessage(q(ok.message()), 10000);
        }
    });

    m_totals = new QLabel;
    m_state = new QLabel;
    m_state->setObjectName("graphState");
    m_state->setContentsMargins(12, 0, 4, 0);
    m_deviceLabel = new QLabel;
    m_deviceLabel->setObjectName("deviceState");
    m_deviceLabel->setContentsMargins(12, 0, 4, 0);
    m_trainingLabel = new QLabel(tr("Not trained"));
    m_trainingLabel->setObjectName("trainingState");
    m_trainingLabel->setContentsMargins(12, 0, 4, 0);
    statusBar()->addPermanentWidget(m_totals);
    statusBar()->addPermanentWidget(m_state);
    statusBar()->addPermanentWidget(m_deviceLabel);
    statusBar()->addPermanentWidget(m_trainingLabel);
    // The run's state stays in view (a transient message would be replaced by the next one).
    connect(m_dashboard, &Dashboard::stateChanged, this, [this](const QString& s) {
        m_trainingLabel->setText(s);
        updateDevice();
    });
    connect(m_dashboard->deviceBox(), &QComboBox::currentTextChanged, this,
            &MainWindow::updateDevice);
    connect(m_model, &EditorModel::documentReset, this,
            [this] { m_trainingLabel->setText(tr("Not trained")); });
    updateDevice();

    connect(m_palette, &Palette::addRequested, this, &MainWindow::addLayerAtCentre);
    connect(m_scene, &GraphScene::statusMessage, this,
            [this](const QString& text) { statusBar()->showMessage(text, 8000); });
    connect(m_scene, &GraphScene::currentNodeChanged, m_inspector, &Inspector::setNode);
    connect(m_model, &EditorModel::graphChanged, this, [this] {
        updateStatus();
        updateProblems();
    });
    connect(m_model->undoStack(), &QUndoStack::cleanChanged, this, &MainWindow::updateTitle);
    connect(m_model->undoStack(), &QUndoStack::indexChanged, this, &MainWindow::updateTitle);
    auto select = [this](QListWidgetItem* item) {
        NodeId id{item->data(kNodeRole).toUInt()};
        if (!id.valid() || !m_scene->nodeItem(id)) return;
        m_scene->selectNodes({id});
        m_view->centreOn(m_scene->nodeItem(id)->sceneBoundingRect().center());
    };
    connect(m_problems, &QListWidget::itemClicked, this, select);
    connect(m_problems, &QListWidget::itemActivated, this, select);

    buildMenus();

    m_autosave = new QTimer(this);
    m_autosave->setInterval(kAutosaveMs);
    connect(m_autosave, &QTimer::timeout, this, &MainWindow::autosave);
    m_autosave->start();
    claimRecoverySlot();

    resize(1400, 860);
    if (m_options.restoreSettings) {
        QSettings s;
        restoreGeometry(s.value("window/geometry").toByteArray());
        restoreState(s.value("window/state").toByteArray());
    }
    updateStatus();
    updateProblems();
    updateTitle();
    showStartPage();
    if (m_options.offerRecovery && m_options.interactive) {
        QTimer::singleShot(0, this, &MainWindow::offerRecovery);
    }
}

MainWindow::~MainWindow() = default;

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* a = file->addAction(tr("&New"), this, [this] {
        if (maybeSave()) showStartPage();
    });
    a->setShortcut(QKeySequence::New);
    a = file->addAction(tr("&Open..."), this, &MainWindow::openWithDialog);
    a->setShortcut(QKeySequence::Open);
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    rebuildRecentMenu();
    file->addSeparator();
    a = file->addAction(tr("&Save"), this, [this] { saveToCurrentPath(); });
    a->setShortcut(QKeySequence::Save);
    a = file->addAction(tr("Save &As..."), this, &MainWindow::saveAsWithDialog);
    a->setShortcut(QKeySequence::SaveAs);
    file->addSeparator();
    file->addAction(tr("&Import Model..."), this, &MainWindow::importWithDialog);
    file->addAction(tr("&Export Trained Model..."), this, &MainWindow::exportWithDialog)
        ->setObjectName("exportTrainedModel");
    file->addSeparator();
    a = file->addAction(tr("&Quit"), this, &QWidget::close);
    a->setShortcut(QKeySequence::Quit);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    QAction* undo = m_model->undoStack()->createUndoAction(this, tr("&Undo"));
    undo->setShortcut(QKeySequence::Undo);
    QAction* redo = m_model->undoStack()->createRedoAction(this, tr("&Redo"));
    redo->setShortcuts({QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z), QKeySequence::Redo});
    edit->addAction(undo);
    edit->addAction(redo);
    edit->addSeparator();
    auto sceneAction = [&](const QString& text, QKeySequence key, void (GraphScene::*fn)()) {
        QAction* act = edit->addAction(text, m_scene, fn);
        act->setShortcut(key);
        act->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        m_view->addAction(act);
        return act;
    };
    sceneAction(tr("Cu&t"), QKeySequence::Cut, &GraphScene::cutSelection);
    sceneAction(tr("&Copy"), QKeySequence::Copy, &GraphScene::copySelection);
    sceneAction(tr("&Paste"), QKeySequence::Paste, &GraphScene::paste);
    sceneAction(tr("&Duplicate"), QKeySequence(Qt::CTRL | Qt::Key_D), &GraphScene::duplicateSelection);
    QAction* del = sceneAction(tr("De&lete"), QKeySequence::Delete, &GraphScene::deleteSelection);
    del->setShortcuts({QKeySequence::Delete, QKeySequence(Qt::Key_Backspace)});
    sceneAction(tr("Select &All"), QKeySequence::SelectAll, &GraphScene::selectAllItems);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    a = view->addAction(tr("&Fit to View"), this, [this] { m_view->fitGraph(); });
    a->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));
    a = view->addAction(tr("&Auto Layout"), this, [this] {
        m_scene->autoLayoutNodes();
        m_view->fitGraph();
    });
    a->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
    a = view->addAction(tr("Zoom &In"), this, [this] { m_view->zoomAt(m_view->viewport()->rect().center(), 1.25); });
    a->setShortcut(QKeySequence::ZoomIn);
    a = view->addAction(tr("Zoom &Out"), this, [this] { m_view->zoomAt(m_view->viewport()->rect().center(), 0.8); });
    a->setShortcut(QKeySequence::ZoomOut);
    view->addSeparator();
    view->addAction(tr("&Start Page"), this, [this] { showStartPage(); });
    view->addSeparator();
    for (QDockWidget* dock : findChildren<QDockWidget*>()) view->addAction(dock->toggleViewAction());
}

void MainWindow::buildStartPage() {
    m_startPage = new QWidget;
    m_startPage->setObjectName("startPage");
    auto* outer = new QVBoxLayout(m_startPage);
    outer->setContentsMargins(48, 36, 48, 36);
    auto* title = new QLabel(tr("<h1>Strata</h1><p style='color:#9aa0aa'>Build neural networks "
                                "visually, train them on the GPU.</p>"));
    outer->addWidget(title);

    auto* grid = new QGridLayout;
    grid->setHorizontalSpacing(36);
    outer->addLayout(grid, 1);

    auto* startBox = new QVBoxLayout;
    startBox->addWidget(new QLabel(tr("<h3>Start</h3>")));
    auto* empty = new QPushButton(tr("New empty graph"));
    empty->setObjectName("newEmpty");
    connect(empty, &QPushButton::clicked, this, [this] { startDocument(Document{}); });
    startBox->addWidget(empty);
    for (const TemplateInfo& t : templates()) {
        auto* b = new QPushButton(tr("New from template: %1").arg(t.title));
        b->setObjectName("template_" + t.id);
        b->setToolTip(t.summary);
        auto probe = buildTemplate(t.id);
        if (!probe) {
            b->setEnabled(false);
            b->setToolTip(q(probe.message()));
        }
        connect(b, &QPushButton::clicked, this, [this, id = t.id] {
            auto doc = buildTemplate(id);
            if (!doc) {
                report(tr("Template"), q(doc.message()));
                return;
            }
            startDocument(std::move(*doc));
        });
        startBox->addWidget(b);
    }
    auto* open = new QPushButton(tr("Open..."));
    connect(open, &QPushButton::clicked, this, &MainWindow::openWithDialog);
    startBox->addWidget(open);
    startBox->addStretch(1);
    grid->addLayout(startBox, 0, 0);

    auto* recentBox = new QVBoxLayout;
    recentBox->addWidget(new QLabel(tr("<h3>Recent files</h3>")));
    m_startRecent = new QListWidget;
    m_startRecent->setObjectName("recentList");
    recentBox->addWidget(m_startRecent);
    grid->addLayout(recentBox, 0, 1);

    auto* samplesBox = new QVBoxLayout;
    samplesBox->addWidget(new QLabel(tr("<h3>Samples</h3>")));
    auto* samples = new QListWidget;
    samples->setObjectName("samplesList");
    for (const QString& f : sampleFiles()) {
        auto* item = new QListWidgetItem(QFileInfo(f).fileName().remove(".strata.json"), samples);
        item->setData(Qt::UserRole, f);
        item->setToolTip(f);
    }
    if (samples->count() == 0) {
        auto* none = new QListWidgetItem(tr("No samples found"), samples);
        none->setFlags(Qt::NoItemFlags);
    }
    samplesBox->addWidget(samples);
    grid->addLayout(samplesBox, 0, 2);
    grid->setColumnStretch(0, 1);
    grid->setColumnStretch(1, 1);
    grid->setColumnStretch(2, 1);

    auto openItem = [this](QListWidgetItem* item) {
        QString path = item->data(Qt::UserRole).toString();
        if (path.isEmpty()) return;
        if (auto ok = openDocument(path); !ok) report(tr("Open"), q(ok.message()));
    };
    // Entries read as links: one click opens them (Enter too).
    for (QListWidget* list : {m_startRecent, samples}) {
        list->setCursor(Qt::PointingHandCursor);
        connect(list, &QListWidget::itemClicked, this, openItem);
        connect(list, &QListWidget::itemActivated, this, openItem);
    }
}

bool MainWindow::startPageShown() const { return m_stack->currentWidget() == m_startPage; }

void MainWindow::showStartPage() {
    m_startRecent->clear();
    for (const QString& f : recentFiles()) {
        auto* item = new QListWidgetItem(QFileInfo(f).fileName(), m_startRecent);
        item->setData(Qt::UserRole, f);
        item->setToolTip(f);
    }
    m_stack->setCurrentWidget(m_startPage);
}

void MainWindow::showEditor() {
    m_stack->setCurrentWidget(m_view);
    m_view->setFocus();
}

QString MainWindow::documentDir() const {
    return m_path.isEmpty() ? QDir::currentPath() : QFileInfo(m_path).absolutePath();
}

void MainWindow::startDocument(Document doc, const QString& path) {
    m_trained->clear();
    // Before the reset: panels that reload on it resolve relative data paths beside the document.
    m_path = path;
    m_model->reset(std::move(doc));
    m_restoredUnsaved = false;
    showEditor();
    QTimer::singleShot(0, m_view, &GraphView::fitGraph);
    m_view->fitGraph();
    updateTitle();
}

bool MainWindow::isModified() const { return !m_model->undoStack()->isClean() || m_restoredUnsaved; }

void MainWindow::updateTitle() {
    QString name = m_path.isEmpty() ? (m_model->document().name.empty() ? tr("Untitled")
                                                                         : q(m_model->document().name))
                                    : QFileInfo(m_path).fileName();
    setWindowTitle(name + "[*] — Strata");
    setWindowModified(isModified());
    updateStatus();
}

void MainWindow::updateStatus() {
    const GraphAnalysis& a = m_model->analysis();
    m_totals->setText(tr("Parameters %1  ·  FLOPs %2  ·  Activations %3 per sample")
                          .arg(compactCount(a.parameters), compactCount(a.flops),
                               byteText(a.activationBytes)));
    QString state;
    const size_t errors = a.problems.size();
    const size_t training = m_model->trainingIssues().size();
    if (m_model->graph().empty()) {
        state = tr("Empty graph");
    } else if (errors > 0) {
        state = countText(static_cast<int64_t>(errors), tr("error"), tr("errors"));
    } else if (training > 0) {
        state = tr("Valid, not trainable yet");
    } else {
        state = tr("Ready to train");
    }
    if (isModified()) state += tr(" · modified");
    m_state->setText(state);
    m_state->setStyleSheet(errors > 0 ? "color: #e04f4f;" : "");
}

void MainWindow::updateDevice() {
    // A run names the device it really got; before one, the choice ("auto") is all there is.
    const TrainingSession* session = m_dashboard->session();
    const QString chosen = m_dashboard->deviceBox()->currentText();
    const QString used = session->deviceName();
    const bool useReal = !used.isEmpty() && (session->isRunning() || chosen == m_lastRunDevice);
    QString text = useReal ? used : chosen;
    if (!useReal && chosen == QLatin1String("auto")) text = tr("auto (GPU if present, else CPU)");
    if (session->isRunning()) m_lastRunDevice = chosen;
    m_deviceLabel->setText(tr("Device: %1").arg(text));
    m_deviceLabel->setToolTip(tr("Choose the device in the Training dock"));
}

void MainWindow::updateProblems() {
    m_problems->clear();
    const Graph& g = m_model->graph();
    auto add = [&](const Problem& p, bool error) {
        auto* item = new QListWidgetItem(q(p.message), m_problems);
        item->setData(kNodeRole, p.node.value);
        item->setForeground(error ? QColor(0xe0, 0x4f, 0x4f) : QColor(0xd8, 0xa0, 0x40));
        // The dock is narrow: the tooltip holds the whole sentence.
        item->setToolTip(q(p.message) + "\n" +
                         (error ? tr("Error: the graph cannot run until this is fixed")
                                : tr("Training needs this fixed; editing does not")));
        item->setIcon(style()->standardIcon(error ? QStyle::SP_MessageBoxCritical
                                                  : QStyle::SP_MessageBoxWarning));
    };
    for (const Problem& p : m_model->analysis().problems) add(p, true);
    for (const Problem& p : m_model->trainingIssues()) {
        if (!p.node.valid() || g.node(p.node)) add(p, false);
    }
    if (auto* dock = findChild<QDockWidget*>("problemsDock")) {
        dock->setWindowTitle(m_problems->count() ? tr("Problems (%1)").arg(m_problems->count())
                                                 : tr("Problems"));
    }
}

void MainWindow::addLayerAtCentre(const QString& layerId) {
    if (startPageShown()) startDocument(Document{});
    QPointF centre = m_view->mapToScene(m_view->viewport()->rect().center());
    const std::string type = layerId.toStdString();
    // Stagger repeated additions so they do not stack exactly: probe where the new node's
    // top-left corner would fall.
    const QPointF half(NodeItem::kWidth / 2, NodeItem::heightFor(type) / 2);
    while (!m_scene->items(QRectF(centre - half, QSizeF(20, 20))).isEmpty()) {
        centre += QPointF(30, 30);
    }
    (void)m_scene->addLayerCentredAt(type, centre);
}

// ---- files ----

Result<void> MainWindow::openDocument(const QString& path) {
    if (!maybeSave()) return fail("cancelled");
    auto doc = readDocument(path.toStdString());
    if (!doc) return fail(path.toStdString() + ": " + doc.message());
    // Nodes the file places nowhere are laid out automatically.
    if (doc->layout.size() < doc->graph.nodes().size()) {
        auto auto_ = autoLayout(doc->graph);
        for (const auto& [name, l] : auto_) doc->layout.emplace(name, l);
    }
    const Document opened = *doc;
    startDocument(std::move(*doc), QFileInfo(path).absoluteFilePath());
    // A document with weights is a trained model: Try it runs it without training.
    m_trained->adoptDocument(opened, path);
    addRecent(m_path);
    statusBar()->showMessage(tr("Opened %1").arg(path), 5000);
    return {};
}

Result<void> MainWindow::saveDocument(const QString& path) {
    Document doc = m_model->document();
    if (doc.name.empty()) doc.name = QFileInfo(path).fileName().remove(".strata.json").toStdString();
    if (auto ok = writeDocument(doc, path.toStdString()); !ok) {
        return fail(path.toStdString() + ": " + ok.message());
    }
    m_path = QFileInfo(path).absoluteFilePath();
    m_restoredUnsaved = false;
    m_model->undoStack()->setClean();
    if (!m_recoveryPath.isEmpty()) removeRecoveryFiles(m_recoveryPath);
    addRecent(m_path);
    updateTitle();
    statusBar()->showMessage(tr("Saved %1").arg(path), 5000);
    return {};
}

bool MainWindow::saveToCurrentPath() {
    if (m_path.isEmpty()) {
        saveAsWithDialog();
        return !isModified();
    }
    auto ok = saveDocument(m_path);
    if (!ok) report(tr("Save"), q(ok.message()));
    return ok.ok();
}

void MainWindow::openWithDialog() {
    QString path = QFileDialog::getOpenFileName(this, tr("Open document"), QString(),
                                                tr("Strata documents (*.strata.json);;JSON (*.json)"));
    if (path.isEmpty()) return;
    if (auto ok = openDocument(path); !ok && ok.message() != "cancelled") {
        report(tr("Open"), q(ok.message()));
    }
}

void MainWindow::saveAsWithDialog() {
    QString path = QFileDialog::getSaveFileName(this, tr("Save document"), m_path,
                                                tr("Strata documents (*.strata.json)"));
    if (path.isEmpty()) return;
    if (!path.endsWith(".json")) path += ".strata.json";
    if (auto ok = saveDocument(path); !ok) report(tr("Save"), q(ok.message()));
}

Result<void> MainWindow::exportTrainedModel(const QString& path) {
    auto ok = m_trained->exportTo(path);
    if (ok) statusBar()->showMessage(tr("Exported the trained model to %1").arg(path), 8000);
    return ok;
}

Result<void> MainWindow::importModel(const QString& path) {
    if (auto ok = openDocument(path); !ok) return ok;
    if (!m_trained->model()) {
        statusBar()->showMessage(
            tr("%1 has no trained weights: opened for editing; train it to try it").arg(path),
            10000);
    }
    return {};
}

void MainWindow::exportWithDialog() {
    if (!m_trained->model()) {
        report(tr("Export trained model"),
               tr("There is no trained model yet: train the graph in the Training dock, or "
                  "import a trained model."));
        return;
    }
    QString suggested = m_path;
    if (suggested.endsWith(".strata.json")) suggested.replace(".strata.json", ".trained.strata.json");
    QString path = QFileDialog::getSaveFileName(this, tr("Export trained model"), suggested,
                                                tr("Strata documents (*.strata.json)"));
    if (path.isEmpty()) return;
    if (!path.endsWith(".json")) path += ".strata.json";
    if (auto ok = exportTrainedModel(path); !ok) report(tr("Export trained model"), q(ok.message()));
}

void MainWindow::importWithDialog() {
    QString path = QFileDialog::getOpenFileName(this, tr("Import model"), QString(),
                                                tr("Strata documents (*.strata.json);;JSON (*.json)"));
    if (path.isEmpty()) return;
    if (auto ok = importModel(path); !ok && ok.message() != "cancelled") {
        report(tr("Import model"), q(ok.message()));
    }
}

void MainWindow::report(const QString& title, const QString& text) {
    statusBar()->showMessage(text, 10000);
    if (m_options.interactive) QMessageBox::warning(this, title, text);
}

bool MainWindow::maybeSave() {
    if (!isModified() || !m_options.interactive) return true;
    auto answer = QMessageBox::question(
        this, tr("Unsaved changes"),
        tr("%1 has unsaved changes. Save them first?").arg(m_path.isEmpty() ? tr("This graph")
                                                                           : QFileInfo(m_path).fileName()),
        QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
    if (answer == QMessageBox::Cancel) return false;
    if (answer == QMessageBox::Save) return saveToCurrentPath();
    return true;
}

void MainWindow::closeEvent(QCloseEvent* e) {
    if (!maybeSave()) {
        e->ignore();
        return;
    }
    if (m_options.restoreSettings) {
        QSettings s;
        s.setValue("window/geometry", saveGeometry());
        s.setValue("window/state", saveState());
    }
    // A deliberate close is not a crash: nothing to recover next time.
    if (!m_recoveryPath.isEmpty()) removeRecoveryFiles(m_recoveryPath);
    e->accept();
}

// ---- recent files ----

QStringList MainWindow::recentFiles() const { return QSettings().value("recentFiles").toStringList(); }

void MainWindow::addRecent(const QString& path) {
    QStringList list = recentFiles();
    list.removeAll(path);
    list.prepend(path);
    while (list.size() > kMaxRecent) list.removeLast();
    QSettings().setValue("recentFiles", list);
    rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
    m_recentMenu->clear();
    const QStringList list = recentFiles();
    for (const QString& f : list) {
        m_recentMenu->addAction(QFileInfo(f).fileName(), this, [this, f] {
            if (auto ok = openDocument(f); !ok && ok.message() != "cancelled") {
                report(tr("Open"), q(ok.message()));
            }
        })->setToolTip(f);
    }
    m_recentMenu->setEnabled(!list.isEmpty());
}

// ---- autosave and recovery ----
//
// recoveryDir() holds one slot per running studio: recovery-K.strata.json (the autosaved
// document), recovery-K.origin (the path it was opened from, if any) and recovery-K.lock, a
// QLockFile the studio holds while it runs. A crash leaves the lock naming a dead process (or, when
// a window is destroyed without closing, no lock at all): such a slot's document is stale and the
// next studio offers it; a slot whose lock a live studio holds is never touched by another.

namespace {

constexpr int kMaxRecoverySlots = 256;

QString slotBase(int k) { return MainWindow::recoveryDir() + QString("/recovery-%1").arg(k); }
QString lockPathOf(const QString& recovery) {
    return QString(recovery).replace(".strata.json", ".lock");
}
QString originPathOf(const QString& recovery) {
    return QString(recovery).replace(".strata.json", ".origin");
}

std::unique_ptr<QLockFile> tryLockSlot(const QString& lockPath) {
    auto lock = std::make_unique<QLockFile>(lockPath);
    // Only a dead owner makes a lock stale: the default (30 s old) would let a second studio take
    // the slot of a long-running first one.
    lock->setStaleLockTime(0);
    if (!lock->tryLock(0)) return nullptr;
    return lock;
}

struct StaleRecovery {
    QString path;
    std::unique_ptr<QLockFile> lock;  // held so that no other starting studio offers it too
};

// Before recovery slots, one file in the app data folder held the autosave (and QSettings
// "recovery/path" where it came from): move it into a free slot, so that it is offered too.
void adoptLegacyRecovery() {
    const QString legacy =
        QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/recovery.strata.json";
    if (!QFile::exists(legacy)) return;
    QDir().mkpath(MainWindow::recoveryDir());
    for (int k = 0; k < kMaxRecoverySlots; ++k) {
        const QString recovery = slotBase(k) + ".strata.json";
        if (QFile::exists(recovery)) continue;
        auto lock = tryLockSlot(slotBase(k) + ".lock");
        if (!lock || QFile::exists(recovery) || !QFile::rename(legacy, recovery)) continue;
        QSettings settings;
        const QString origin = settings.value("recovery/path").toString();
        settings.remove("recovery/path");
        QFile f(originPathOf(recovery));
        if (!origin.isEmpty() && f.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
            f.write(origin.toUtf8());
        }
        return;
    }
}

// Newest first: the work a person most likely misses.
std::vector<StaleRecovery> lockStaleRecoveries() {
    adoptLegacyRecovery();
    std::vector<StaleRecovery> stale;
    const QFileInfoList files = QDir(MainWindow::recoveryDir())
                                    .entryInfoList({"recovery-*.strata.json"}, QDir::Files,
                                                   QDir::Time);
    for (const QFileInfo& f : files) {
        auto lock = tryLockSlot(lockPathOf(f.absoluteFilePath()));
        if (!lock) continue;  // a live studio's slot (or one another studio is offering)
        // The owner may have removed its file between the listing and the lock.
        if (!f.exists()) continue;
        stale.push_back({f.absoluteFilePath(), std::move(lock)});
    }
    return stale;
}

void removeRecoveryFiles(const QString& recovery) {
    QFile::remove(recovery);
    QFile::remove(originPathOf(recovery));
}

}  // namespace

QString MainWindow::recoveryDir() {
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/recovery";
}

QStringList MainWindow::staleRecoveryFiles() {
    QStringList paths;
    for (const StaleRecovery& r : lockStaleRecoveries()) paths << r.path;
    return paths;
}

QString MainWindow::recoveryPath() const { return m_recoveryPath; }

void MainWindow::claimRecoverySlot() {
    QDir().mkpath(recoveryDir());
    for (int k = 0; k < kMaxRecoverySlots; ++k) {
        const QString recovery = slotBase(k) + ".strata.json";
        // A slot with a document in it belongs to a live studio or waits to be offered.
        if (QFile::exists(recovery)) continue;
        auto lock = tryLockSlot(slotBase(k) + ".lock");
        if (!lock) continue;
        if (QFile::exists(recovery)) continue;  // written by its owner just before it died
        m_recoveryLock = std::move(lock);
        m_recoveryPath = recovery;
        return;
    }
    // Hundreds of crashed sessions nobody restored: autosave reports the failure.
    m_recoveryPath.clear();
}

void MainWindow::autosave() {
    if (!isModified()) {
        // Saved, or undone back to the saved state: there is nothing a crash could lose.
        if (!m_recoveryPath.isEmpty()) removeRecoveryFiles(m_recoveryPath);
        return;
    }
    if (m_recoveryPath.isEmpty()) claimRecoverySlot();
    if (m_recoveryPath.isEmpty()) {
        statusBar()->showMessage(
            tr("Autosave failed: no free recovery slot in %1; restore or delete the old "
               "recovery files there.").arg(recoveryDir()), 8000);
        return;
    }
    if (auto ok = writeDocument(m_model->document(), m_recoveryPath.toStdString()); !ok) {
        statusBar()->showMessage(tr("Autosave failed: %1").arg(q(ok.message())), 8000);
        return;
    }
    QFile origin(originPathOf(m_recoveryPath));
    if (m_path.isEmpty()) {
        origin.remove();
    } else if (origin.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        origin.write(m_path.toUtf8());
    }
}

void MainWindow::adoptRecovered(Document doc, const QString& original) {
    startDocument(std::move(doc), original);
    m_restoredUnsaved = true;
    updateTitle();
    // Into this studio's own slot at once: the stale file is about to go.
    autosave();
}

void MainWindow::offerRecovery() {
    for (StaleRecovery& r : lockStaleRecoveries()) {
        QString original;
        if (QFile origin(originPathOf(r.path)); origin.open(QIODevice::ReadOnly)) {
            original = QString::fromUtf8(origin.readAll());
        }
        const QString when = QFileInfo(r.path).lastModified().toString("yyyy-MM-dd hh:mm");
        auto answer = QMessageBox::question(
            this, tr("Restore unsaved work?"),
            tr("Strata closed without saving %1 (autosaved %2). Restore the automatically saved "
               "copy?")
                .arg(original.isEmpty() ? tr("an untitled graph") : QFileInfo(original).fileName(),
                     when),
            QMessageBox::Yes | QMessageBox::No, QMessageBox::Yes);
        if (answer == QMessageBox::Yes) {
            auto doc = readDocument(r.path.toStdString());
            if (!doc) {
                report(tr("Restore"), q(doc.message()));
                continue;
            }
            // A second restored document gets a window of its own.
            MainWindow* target = this;
            if (!startPageShown() || isModified()) {
                target = new MainWindow(Options{m_options.interactive, false,
                                                m_options.restoreSettings});
                target->setAttribute(Qt::WA_DeleteOnClose);
                target->show();
            }
            target->adoptRecovered(std::move(*doc), original);
        }
        removeRecoveryFiles(r.path);
    }
}

}  // namespace strata::ui

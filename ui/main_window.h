#pragma once
// The studio's main window: palette dock left, canvas centre (behind a start page until a
// document is open), inspector dock right, training dashboard and problems docks below, totals
// and state in the status bar; File/Edit/View menus; open/save through core/io, unsaved-changes
// prompt, autosave to a recovery file, window state and recent files in QSettings.
#include <QMainWindow>
#include <memory>

#include "core/io/document.h"

class QLabel;
class QListWidget;
class QLockFile;
class QMenu;
class QStackedWidget;
class QTimer;

namespace strata::ui {

class Dashboard;
class DatasetPanel;
class EditorModel;
class GraphScene;
class GraphView;
class Inspector;
class Palette;
class TrainedModelTracker;
class TryItPanel;

// Fusion with a dark palette: the canvas is dark, and the docks should match it.
void applyStudioStyle();

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    struct Options {
        bool interactive = true;       // false: no dialogs (tests); errors go to the status bar
        bool offerRecovery = true;     // ask to restore an autosaved document at start
        bool restoreSettings = true;   // window geometry and dock layout
    };
    explicit MainWindow(Options options, QWidget* parent = nullptr);
    MainWindow() : MainWindow(Options{}) {}
    ~MainWindow() override;

    EditorModel* model() const { return m_model; }
    GraphScene* scene() const { return m_scene; }
    GraphView* view() const { return m_view; }
    Palette* palette() const { return m_palette; }
    Inspector* inspector() const { return m_inspector; }
    QListWidget* problemsList() const { return m_problems; }
    Dashboard* dashboard() const { return m_dashboard; }
    DatasetPanel* datasetPanel() const { return m_datasetPanel; }
    TryItPanel* tryItPanel() const { return m_tryIt; }
    TrainedModelTracker* trainedModel() const { return m_trained; }
    QLabel* totalsLabel() const { return m_totals; }
    QLabel* stateLabel() const { return m_state; }
    // The device the next run uses (the one a run used, once it has started) and the run's state.
    QLabel* deviceLabel() const { return m_deviceLabel; }
    QLabel* trainingLabel() const { return m_trainingLabel; }
    const QString& documentPath() const { return m_path; }
    bool isModified() const;

    // Starts editing `doc` (from New, a template, Open or a restore).
    void startDocument(Document doc, const QString& path = {});
    Result<void> openDocument(const QString& path);
    Result<void> saveDocument(const QString& path);
    // File → Export trained model / Import model: the document with weights, preprocessing and
    // training record; an imported model runs in the Try-it panel at once.
    Result<void> exportTrainedModel(const QString& path);
    Result<void> importModel(const QString& path);
    bool saveToCurrentPath();
    void showStartPage();
    void showEditor();
    bool startPageShown() const;

    // Writes this studio's recovery file when there are unsaved changes; removes it otherwise.
    void autosave();
    // Each running studio autosaves into its own slot of recoveryDir(), held by a lock file, so
    // that two studios never overwrite each other's recovery.
    QString recoveryPath() const;
    static QString recoveryDir();
    // The recovery files no live studio holds: left by a crash, offered for restore at start.
    static QStringList staleRecoveryFiles();

protected:
    void closeEvent(QCloseEvent* e) override;

private:
    void buildMenus();
    void buildStartPage();
    void updateStatus();
    void updateDevice();
    void updateProblems();
    void updateTitle();
    void addRecent(const QString& path);
    void rebuildRecentMenu();
    QStringList recentFiles() const;
    bool maybeSave();  // false: the user cancelled
    void offerRecovery();
    void claimRecoverySlot();
    // Makes `doc` (recovered from a crash of another session) this window's unsaved work.
    void adoptRecovered(Document doc, const QString& original);
    void report(const QString& title, const QString& text);
    void addLayerAtCentre(const QString& layerId);
    void openWithDialog();
    void saveAsWithDialog();
    void exportWithDialog();
    void importWithDialog();
    QString documentDir() const;

    Options m_options;
    EditorModel* m_model;
    GraphScene* m_scene;
    GraphView* m_view;
    Palette* m_palette;
    Inspector* m_inspector;
    QListWidget* m_problems;
    Dashboard* m_dashboard;
    DatasetPanel* m_datasetPanel;
    TryItPanel* m_tryIt;
    TrainedModelTracker* m_trained;
    QStackedWidget* m_stack;
    QWidget* m_startPage = nullptr;
    QListWidget* m_startRecent = nullptr;
    QLabel* m_totals;
    QLabel* m_state;
    QLabel* m_deviceLabel;
    QLabel* m_trainingLabel;
    QMenu* m_recentMenu = nullptr;
    QTimer* m_autosave;
    std::unique_ptr<QLockFile> m_recoveryLock;  // held while this studio runs
    QString m_recoveryPath;
    QString m_path;
    QString m_lastRunDevice;  // the device choice of the last run, whose real name is known
    bool m_restoredUnsaved = false;  // a recovered document counts as modified until saved
};

}  // namespace strata::ui

#pragma once
// Trains a graph on a dataset in its own thread. The worker owns the backend; other threads talk
// to it only through atomics (pause, stop, learning rate), the SpscRing of step metrics, the
// LatestValue of attention snapshots, and the event queue. Nothing here blocks the caller except
// start() (compiling and preparing, so its errors come back as a Result) and wait().
//
// Determinism: parameters start from initialParameters(seed); epoch e visits the training set in
// a permutation derived from (seed, e); step s uses the RNG seed derived from (seed, s). A
// checkpoint therefore only needs the step, the epoch and the batch position to continue the
// same curve.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/data/dataset.h"
#include "core/engine/backend.h"
#include "core/engine/program.h"
#include "core/io/document.h"
#include "core/train/checkpoint.h"
#include "core/train/metrics.h"
#include "core/util/latest_value.h"
#include "core/util/spsc_ring.h"

namespace strata {

struct TrainerConfig {
    Graph graph;
    TrainingSettings settings;
    std::shared_ptr<const Dataset> train;
    std::shared_ptr<const Dataset> validation;  // may be null
    std::optional<WeightSet> initialWeights;    // else initialParameters(settings.seed)
    std::filesystem::path checkpointDir;        // best.ckpt and last.ckpt; empty: none
    std::filesystem::path resumeFrom;           // a checkpoint to continue; empty: a new run
    int64_t attentionEvery = 50;                // steps between attention snapshots
    int64_t maxSteps = 0;                       // stop after this many steps in all; 0: no limit
    int cpuThreads = 0;                         // OpenBLAS threads for the CPU backend; 0: default
    std::unique_ptr<Backend> backend;           // else createBackend(settings.device)
};

enum class TrainerState { Idle, Running, Paused, Stopped, Finished, Failed };

struct TrainerEvent {
    enum class Kind {
        EpochEnd,  // epoch holds the metrics
        Paused,    // by pause(), or by a non-finite value (message says which op and what to do)
        Resumed,
        Checkpoint,  // message: the file written
        Error,       // training cannot continue; message says why
        Finished,    // message: "completed", "stopped" or "early stopping"
        CheckpointFailed,  // a requested checkpoint could not be written; message says why
    };
    Kind kind;
    EpochMetrics epoch;
    std::string message;
};

class Trainer {
public:
    explicit Trainer(TrainerConfig config);
    ~Trainer();  // stops the worker and waits for it
    Trainer(const Trainer&) = delete;
    Trainer& operator=(const Trainer&) = delete;

    // Called on the worker thread for every event, in addition to the queue. Set before start.
    void setEventCallback(std::function<void(const TrainerEvent&)> callback);

    // Compiles, prepares the backend, loads weights or the checkpoint, binds the data; then
    // starts the worker. Errors a person can fix come back here as sentences.
    Result<void> start();
    void pause();
    void resume();
    void stop();  // honoured before the next step; writes last.ckpt when checkpointing
    void setLearningRate(double lr);  // the base rate; the schedule still applies on top
    // A checkpoint of the run as it stands (resumable with TrainerConfig::resumeFrom). While the
    // worker runs it is written between two steps (at once when paused) and reported by a
    // Checkpoint or CheckpointFailed event; once the worker has ended it is written here and the
    // result returned (the Checkpoint event is sent too).
    Result<void> requestCheckpoint(const std::filesystem::path& path);
    void wait();                      // until the worker ends (finished, stopped or failed)

    TrainerState state() const { return m_state.load(); }
    SpscRing<StepMetrics>& steps() { return m_steps; }
    std::vector<TrainerEvent> takeEvents();
    LatestValue<std::vector<AttentionSnapshot>>& attention() { return m_attention; }

    // Valid once start() succeeded.
    const Program& program() const { return *m_program; }
    std::string deviceName() const { return m_deviceName; }
    // The weights at the last pause, epoch end or finish.
    WeightSet weights() const;
    std::vector<EpochMetrics> history() const;
    // The message of the last Paused (non-finite) or Error event; empty otherwise.
    std::string lastProblem() const;

private:
    void run(std::stop_token token);
    Result<void> runEpochs(std::stop_token& token);
    // false when stopping. `problem` non-empty: pause because of it.
    bool waitWhilePaused(std::stop_token& token, const std::string& problem);
    // A step queued on the backend whose result has not come back yet; its batch is
    // order[begin, begin + count) of the epoch's order.
    struct Queued {
        size_t begin = 0, count = 0;
        StepValues values;
        std::chrono::steady_clock::time_point queuedAt;
    };
    Result<void> queueStep(const std::vector<int64_t>& order, int64_t batch);
    // Takes the results of the steps that finished (all of them when `all`) and counts those
    // applied; the first one not applied goes to m_failed, and those behind it are dropped.
    Result<void> collectSteps(bool all, int64_t epoch);
    void countStep(const Queued& q, const StepResult& r, int64_t epoch);
    bool checkpointRequested() const;
    Result<void> bindBatch(const Dataset& data, std::span<const int64_t> indices);
    Result<void> keepResident();
    Result<EpochMetrics> evaluate(const Dataset& data);
    std::string diagnoseNonFinite(const StepValues& values);
    void snapshotAttention();
    Result<void> saveCheckpoint(const std::filesystem::path& path);
    void serveCheckpointRequests();  // worker: writes the requested checkpoints
    void refreshWeights();
    void emit(TrainerEvent e);
    std::vector<int64_t> epochOrder(int64_t epoch) const;
    int64_t stepsPerEpoch() const;

    TrainerConfig m_config;
    std::unique_ptr<Program> m_program;
    std::unique_ptr<Backend> m_backend;
    std::string m_deviceName;
    std::deque<Queued> m_queued;   // worker only: steps in flight on the backend, oldest first
    std::optional<Queued> m_failed;  // worker only: the first queued step not applied
    std::chrono::steady_clock::time_point m_lastStepDone;
    Checkpoint m_pos;              // progress: step, epoch, batch, running sums, history

    std::atomic<TrainerState> m_state{TrainerState::Idle};
    std::atomic<bool> m_pauseRequested{false};
    std::atomic<double> m_baseLearningRate{0.0};
    mutable std::mutex m_mutex;  // events, weights, history, cv
    std::condition_variable_any m_cv;
    std::vector<TrainerEvent> m_events;
    std::function<void(const TrainerEvent&)> m_callback;
    WeightSet m_weights;
    std::string m_problem;
    std::vector<std::filesystem::path> m_checkpointRequests;
    bool m_workerDone = false;  // requests are then served on the caller's thread
    SpscRing<StepMetrics> m_steps;
    LatestValue<std::vector<AttentionSnapshot>> m_attention;

    // Classifier scoring: the loss node's logits and targets (when it is cross_entropy).
    TensorId m_logits, m_targets;
    int64_t m_classes = 0, m_ignoreIndex = -100;
    bool m_resident[2] = {false, false};  // training, validation data kept on the device
    std::jthread m_thread;  // last member: joined first on destruction
};

}  // namespace strata

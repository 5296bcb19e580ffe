#include "core/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <set>

#include "core/engine/cpu_backend.h"
#include "core/train/optimizer.h"

namespace strata {

namespace {

uint64_t mix(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

bool allFinite(const std::vector<float>& v) {
    return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
}

std::string describe(const ProgramOp& op) {
    return op.spec->id + " '" + op.name + "'";
}

std::string shapeOf(const std::vector<int64_t>& dims) {
    return Shape(dims).str();
}

}  // namespace

Trainer::Trainer(TrainerConfig config) : m_config(std::move(config)) {}

Trainer::~Trainer() {
    if (m_thread.joinable()) {
        m_thread.request_stop();
        m_cv.notify_all();
        m_thread.join();
    }
}

void Trainer::setEventCallback(std::function<void(const TrainerEvent&)> callback) {
    m_callback = std::move(callback);
}

int64_t Trainer::stepsPerEpoch() const {
    const int64_t b = m_program->batch;
    return (m_config.train->size() + b - 1) / b;
}

std::vector<int64_t> Trainer::epochOrder(int64_t epoch) const {
    std::vector<int64_t> order(static_cast<size_t>(m_config.train->size()));
    std::iota(order.begin(), order.end(), int64_t{0});
    // Fisher-Yates from a counter-based hash: the same order on every platform and library.
    const uint64_t s = mix(m_config.settings.seed ^ mix(static_cast<uint64_t>(epoch) + 1));
    for (size_t i = order.size(); i > 1; --i) {
        const size_t j = static_cast<size_t>(mix(s + i) % i);
        std::swap(order[i - 1], order[j]);
    }
    return order;
}

Result<void> Trainer::start() {
    if (m_state != TrainerState::Idle) return fail("this training run has already started");
    const TrainingSettings& s = m_config.settings;
    if (!m_config.train || m_config.train->size() == 0) {
        return fail("there is no training data; bind a dataset to the graph");
    }
    if (s.batchSize < 1) return fail("the batch size must be at least 1");
    if (s.epochs < 1) return fail("the number of epochs must be at least 1");
    auto program =
        compile(m_config.graph, s.batchSize, {.training = true, .optimizer = s.optimizer});
    if (!program) return program.error();
    m_program = std::make_unique<Program>(std::move(*program));
    const Program& p = *m_program;

    // Every input node's field must exist in the data with the shape the node declares.
    for (const auto* data : {m_config.train.get(), m_config.validation.get()}) {
        if (!data) continue;
        const char* which = data == m_config.train.get() ? "training" : "validation";
        for (const auto& b : p.inputs) {
            auto f = data->field(b.field);
            if (!f) {
                std::string have;
                for (const auto& x : data->fields()) have += (have.empty() ? "" : ", ") + x.name;
                return fail("input '" + p.tensor(b.tensor).nodeName + "' takes the field '" +
                            b.field + "', which the " + which + " data lacks (it has " + have +
                            "); set the input's field to one of these");
            }
            if (f->shape != b.sampleShape) {
                return fail("input '" + p.tensor(b.tensor).nodeName +
                            "' expects samples of shape " + shapeOf(b.sampleShape) + " but the " +
                            which + " field '" + b.field + "' gives " + shapeOf(f->shape) +
                            "; set the input's shape to match");
            }
        }
    }

    if (m_config.backend) {
        m_backend = std::move(m_config.backend);
    } else {
        auto backend = createBackend(s.device);
        if (!backend) return backend.error();
        m_backend = std::move(*backend);
    }
    if (m_config.cpuThreads > 0) setCpuThreads(m_config.cpuThreads);
    m_deviceName = m_backend->deviceName();
    if (auto r = m_backend->prepare(p); !r) return r;

    std::vector<float> params = initialParameters(p, s.seed);
    if (m_config.initialWeights) {
        if (auto r = loadWeights(p, *m_config.initialWeights, params); !r) return r;
    }
    m_pos = Checkpoint{};
    m_pos.seed = s.seed;
    m_pos.optimizer = s.optimizer.name;
    if (!m_config.resumeFrom.empty()) {
        auto c = readCheckpoint(m_config.resumeFrom);
        if (!c) return c.error();
        if (auto r = checkCheckpointFits(*c, p); !r) return r;
        params = c->parameters;
        if (auto r = m_backend->uploadOptimizerState(c->optimizerState); !r) return r;
        m_pos = std::move(*c);
        m_pos.seed = s.seed;
    }
    if (auto r = m_backend->uploadParameters(params); !r) return r;
    if (auto r = keepResident(); !r) return r;

    const ProgramOp& lossOp = p.forward[static_cast<size_t>(p.lossOp)];
    if (lossOp.spec->id == "cross_entropy") {
        m_logits = lossOp.inputs[0];
        m_targets = lossOp.inputs[1];
        m_classes = p.tensor(m_logits).shape[-1];
        m_ignoreIndex = getInt(lossOp.params, "ignore_index");
    }
    m_baseLearningRate = s.optimizer.learningRate;
    refreshWeights();
    m_state = TrainerState::Running;
    m_thread = std::jthread([this](std::stop_token token) { run(token); });
    return {};
}

void Trainer::pause() {
    m_pauseRequested = true;
}

void Trainer::resume() {
    {
        std::lock_guard lock(m_mutex);
        m_pauseRequested = false;
    }
    m_cv.notify_all();
}

void Trainer::stop() {
    m_thread.request_stop();
    m_cv.notify_all();
}

void Trainer::setLearningRate(double lr) {
    m_baseLearningRate = lr;
}

Result<void> Trainer::requestCheckpoint(const std::filesystem::path& path) {
    {
        std::lock_guard lock(m_mutex);
        if (m_state == TrainerState::Idle || !m_program) {
            return fail("there is no training run to checkpoint; train first");
        }
        if (!m_workerDone) {
            m_checkpointRequests.push_back(path);
            m_cv.notify_all();
            return {};
        }
    }
    // The worker has ended: the backend is no longer in use by it.
    return saveCheckpoint(path);
}

void Trainer::serveCheckpointRequests() {
    std::vector<std::filesystem::path> paths;
    {
        std::lock_guard lock(m_mutex);
        paths.swap(m_checkpointRequests);
    }
    for (const auto& path : paths) {
        if (auto r = saveCheckpoint(path); !r) {
            emit({TrainerEvent::Kind::CheckpointFailed, {},
                  "the checkpoint " + path.string() + " could not be written: " + r.message()});
        }
    }
}

void Trainer::wait() {
    if (m_thread.joinable()) m_thread.join();
}

std::vector<TrainerEvent> Trainer::takeEvents() {
    std::lock_guard lock(m_mutex);
    return std::exchange(m_events, {});
}

WeightSet Trainer::weights() const {
    std::lock_guard lock(m_mutex);
    return m_weights;
}

std::vector<EpochMetrics> Trainer::history() const {
    std::lock_guard lock(m_mutex);
    return m_pos.history;
}

std::string Trainer::lastProblem() const {
    std::lock_guard lock(m_mutex);
    return m_problem;
}

void Trainer::emit(TrainerEvent e) {
    {
        std::lock_guard lock(m_mutex);
        if (e.kind == TrainerEvent::Kind::Error ||
            (e.kind == TrainerEvent::Kind::Paused && e.message != "paused")) {
            m_problem = e.message;
        }
        m_events.push_back(e);
    }
    if (m_callback) m_callback(e);
}

void Trainer::refreshWeights() {
    auto arena = m_backend->downloadParameters();
    if (!arena) return;
    WeightSet w = weightsFromArena(*m_program, *arena);
    std::lock_guard lock(m_mutex);
    m_weights = std::move(w);
}

void Trainer::run(std::stop_token token) {
    auto r = runEpochs(token);
    if (!r) {
        // The weights of the last completed step (a backend whose device is gone keeps a copy).
        refreshWeights();
        {
            std::lock_guard lock(m_mutex);
            m_problem = r.message();
        }
        m_state = TrainerState::Failed;
        emit({TrainerEvent::Kind::Error, {}, r.message()});
    }
    {
        std::lock_guard lock(m_mutex);
        m_workerDone = true;
    }
    serveCheckpointRequests();  // those that arrived during the last step
}

bool Trainer::waitWhilePaused(std::stop_token& token, const std::string& problem) {
    if (!problem.empty()) m_pauseRequested = true;
    // Whoever sees the state Paused reads the weights and the problem of this pause.
    refreshWeights();
    if (!problem.empty()) {
        std::lock_guard lock(m_mutex);
        m_problem = problem;
    }
    m_state = TrainerState::Paused;
    emit({TrainerEvent::Kind::Paused, {}, problem.empty() ? "paused" : problem});
    for (;;) {
        {
            std::unique_lock lock(m_mutex);
            m_cv.wait(lock, token, [&] {
                return !m_pauseRequested.load() || !m_checkpointRequests.empty();
            });
        }
        if (token.stop_requested()) return false;
        serveCheckpointRequests();
        if (!m_pauseRequested) break;
    }
    m_state = TrainerState::Running;
    emit({TrainerEvent::Kind::Resumed, {}, "resumed"});
    return true;
}

Result<void> Trainer::keepResident() {
    m_resident[0] = m_resident[1] = false;
    if (!m_backend->keepsDataResident()) return {};
    const Dataset* sets[2] = {m_config.train.get(), m_config.validation.get()};
    std::vector<float> rows;
    std::vector<int64_t> all;
    for (int set = 0; set < 2; ++set) {
        const Dataset* data = sets[set];
        if (!data || data->size() == 0) continue;
        all.resize(static_cast<size_t>(data->size()));
        std::iota(all.begin(), all.end(), 0);
        bool kept = true;
        std::set<std::string> done;
        for (const auto& b : m_program->inputs) {
            if (!kept || !done.insert(b.field).second) continue;
            const ProgramTensor& t = m_program->tensor(b.tensor);
            rows.resize(static_cast<size_t>(t.numel / t.shape[0] * data->size()));
            data->gather(all, b.field, rows.data());
            auto r = m_backend->makeResident(set, b.field, rows, data->size());
            if (!r) return r.error();
            kept = *r;
        }
        m_resident[set] = kept;
    }
    return {};
}

Result<void> Trainer::bindBatch(const Dataset& data, std::span<const int64_t> indices) {
    const int set = &data == m_config.train.get() ? 0 : &data == m_config.validation.get() ? 1 : -1;
    if (set >= 0 && m_resident[set]) return m_backend->selectRows(set, indices);
    const int64_t n = static_cast<int64_t>(indices.size());
    std::set<std::string> done;
    std::vector<float> buffer;
    for (const auto& b : m_program->inputs) {
        if (!done.insert(b.field).second) continue;
        const ProgramTensor& t = m_program->tensor(b.tensor);
        buffer.resize(static_cast<size_t>(t.numelAt(n)));
        data.gather(indices, b.field, buffer.data());
        if (auto r = m_backend->setInput(b.field, buffer, n); !r) return r;
    }
    return {};
}

bool Trainer::checkpointRequested() const {
    std::lock_guard lock(m_mutex);
    return !m_checkpointRequests.empty();
}

Result<void> Trainer::queueStep(const std::vector<int64_t>& order, int64_t batch) {
    const int64_t B = m_program->batch, size = m_config.train->size();
    Queued q{.begin = static_cast<size_t>(batch * B),
             .count = static_cast<size_t>(std::min(B, size - batch * B)),
             .queuedAt = std::chrono::steady_clock::now()};
    if (auto r = bindBatch(*m_config.train, std::span(order.data() + q.begin, q.count)); !r) {
        return r;
    }
    const TrainingSettings& s = m_config.settings;
    const int64_t spe = stepsPerEpoch();
    const int64_t done = m_pos.step + static_cast<int64_t>(m_queued.size());  // before this one
    const double lr =
        scheduledLearningRate(s.schedule, m_baseLearningRate.load(), done, spe, spe * s.epochs);
    q.values = {.learningRate = static_cast<float>(lr),
                .step = done + 1,
                .seed = mix(s.seed ^ mix(static_cast<uint64_t>(done))),
                .batch = static_cast<int64_t>(q.count),
                .clipNorm = static_cast<float>(s.clipGradNorm)};
    if (auto r = m_backend->queueStep(q.values); !r) return r;
    m_queued.push_back(q);
    return {};
}

Result<void> Trainer::collectSteps(bool all, int64_t epoch) {
    auto results = m_backend->finishedSteps(all);
    if (!results) return results.error();
    for (const StepResult& r : *results) {
        if (m_queued.empty()) break;  // results of steps queued by someone else
        const Queued q = m_queued.front();
        m_queued.pop_front();
        if (m_failed) continue;  // behind a step that was not applied: not applied either
        if (!r.applied) {
            m_failed = q;
            continue;
        }
        countStep(q, r, epoch);
    }
    return {};
}

void Trainer::countStep(const Queued& q, const StepResult& r, int64_t epoch) {
    const int64_t n = q.values.batch;
    m_pos.step += 1;
    m_pos.batchInEpoch += 1;
    m_pos.epochLossSum += static_cast<double>(r.loss) * static_cast<double>(n);
    m_pos.epochSamples += n;
    if (m_classes > 0 && r.correct >= 0) {
        m_pos.epochCorrect += r.correct;
        m_pos.epochCounted += r.counted;
    } else if (m_classes > 0 && m_queued.empty()) {
        // The backend did not count: the logits of this step are still in place, as no other
        // step was queued behind it.
        auto logits = m_backend->download(m_logits, n);
        auto targets = m_backend->download(m_targets, n);
        if (logits && targets) {
            ClassifierScore score(m_classes, m_ignoreIndex, false);
            score.add(*logits, *targets);
            m_pos.epochCorrect += score.correct();
            m_pos.epochCounted += score.counted();
        }
    }
    // A pipelined step's time is the time since the one before it finished.
    const auto now = std::chrono::steady_clock::now();
    const double seconds =
        std::chrono::duration<double>(now - std::max(q.queuedAt, m_lastStepDone)).count();
    m_lastStepDone = now;
    m_steps.push({.step = m_pos.step,
                  .epoch = epoch,
                  .loss = r.loss,
                  .learningRate = q.values.learningRate,
                  .gradNorm = r.gradNorm,
                  .samplesPerSecond = static_cast<float>(seconds > 0 ? n / seconds : 0.0)});
    if (m_config.attentionEvery > 0 &&
        (m_pos.step == 1 || m_pos.step % m_config.attentionEvery == 0)) {
        snapshotAttention();
    }
}

std::string Trainer::diagnoseNonFinite(const StepValues& values) {
    const Program& p = *m_program;
    Backend& b = *m_backend;
    const int64_t n = values.batch;
    auto saved = b.downloadParameters();
    std::string culprit, detail;
    for (size_t i = 0; i < p.forward.size() && culprit.empty(); ++i) {
        const ProgramOp& op = p.forward[i];
        for (TensorId w : op.weights) {
            auto v = b.download(w, n);
            if (v && !allFinite(*v)) {
                culprit = describe(op);
                detail = " (its weight '" + p.tensor(w).weightName + "' holds NaN or infinity)";
                break;
            }
        }
        if (!culprit.empty() || !b.runForward(values, Mode::Train, i, i + 1)) break;
        for (TensorId t : op.outputs) {
            auto v = b.download(t, n);
            if (v && !allFinite(*v)) {
                culprit = describe(op);
                detail = " in its output '" + p.tensor(t).name + "'";
                break;
            }
        }
    }
    for (size_t j = 0; j < p.backward.size() && culprit.empty(); ++j) {
        const ProgramOp& op = p.backward[j];
        if (!b.runBackward(values, j, j + 1)) break;
        for (const auto* list : {&op.gradInputs, &op.gradWeights}) {
            for (TensorId t : *list) {
                if (!t.valid() || !culprit.empty()) continue;
                auto v = b.download(t, n);
                if (v && !allFinite(*v)) {
                    culprit = "the backward of " + describe(op);
                    detail = " in the gradient '" + p.tensor(t).name + "'";
                }
            }
        }
    }
    if (saved) (void)b.uploadParameters(*saved);
    std::string where = culprit.empty() ? "the loss or the gradients became non-finite"
                                        : culprit + " produced a non-finite value" + detail;
    char lr[32];
    std::snprintf(lr, sizeof lr, "%g", static_cast<double>(values.learningRate));
    return "training paused at step " + std::to_string(m_pos.step + 1) + ": " + where +
           ". Lower the learning rate (now " + lr +
           ") or enable gradient clipping, then resume; the weights are those of the last good "
           "step.";
}

void Trainer::snapshotAttention() {
    const Program& p = *m_program;
    std::vector<std::pair<const ProgramOp*, TensorId>> maps;
    for (const auto& op : p.forward) {
        for (TensorId a : op.aux) {
            if (p.tensor(a).name == op.name + ".aux:attention") maps.push_back({&op, a});
        }
    }
    if (maps.empty()) return;
    const Dataset& data = m_config.validation && m_config.validation->size() > 0
                              ? *m_config.validation
                              : *m_config.train;
    const int64_t first = 0;
    if (!bindBatch(data, std::span<const int64_t>(&first, 1))) return;
    if (!m_backend->runForward({.batch = 1}, Mode::Eval)) return;
    std::vector<AttentionSnapshot> out;
    for (const auto& [op, t] : maps) {
        auto v = m_backend->download(t, 1);
        if (!v) continue;
        const Shape s = p.tensor(t).shapeAt(1);  // (1, H, T, S)
        AttentionSnapshot snap{.node = op->name, .step = m_pos.step};
        snap.keys = s.rank() >= 1 ? s[-1] : 1;
        snap.queries = s.rank() >= 2 ? s[-2] : 1;
        snap.heads =
            static_cast<int64_t>(v->size()) / std::max<int64_t>(1, snap.keys * snap.queries);
        snap.probabilities = std::move(*v);
        out.push_back(std::move(snap));
    }
    m_attention.set(std::move(out));
}

Result<EpochMetrics> Trainer::evaluate(const Dataset& data) {
    const int64_t B = m_program->batch, size = data.size();
    EpochMetrics m;
    ClassifierScore score(m_classes, m_ignoreIndex, m_classes > 0 && m_classes <= 1024);
    double lossSum = 0;
    std::vector<int64_t> idx;
    for (int64_t start = 0; start < size; start += B) {
        const int64_t n = std::min(B, size - start);
        idx.resize(static_cast<size_t>(n));
        std::iota(idx.begin(), idx.end(), start);
        if (auto r = bindBatch(data, idx); !r) return r.error();
        if (auto r = m_backend->runForward({.batch = n}, Mode::Eval); !r) return r.error();
        auto loss = m_backend->loss();
        if (!loss) return loss.error();
        lossSum += static_cast<double>(*loss) * static_cast<double>(n);
        if (m_classes > 0) {
            auto logits = m_backend->download(m_logits, n);
            auto targets = m_backend->download(m_targets, n);
            if (logits && targets) score.add(*logits, *targets);
        }
    }
    m.valLoss = size ? lossSum / static_cast<double>(size) : kNoValue;
    if (m_classes > 0) {
        m.valAccuracy = score.accuracy();
        if (!score.confusion().empty()) {
            m.classes = m_classes;
            m.confusion = score.confusion();
            m.predictions = score.predictions();
            m.targets = score.targets();
            m.rowsPerSample =
                size > 0 ? std::max<int64_t>(1, int64_t(m.targets.size()) / size) : 1;
        }
    }
    return m;
}

Result<void> Trainer::saveCheckpoint(const std::filesystem::path& path) {
    auto params = m_backend->downloadParameters();
    if (!params) return params.error();
    auto state = m_backend->downloadOptimizerState();
    if (!state) return state.error();
    Checkpoint c = m_pos;
    c.parameters = std::move(*params);
    c.optimizerState = std::move(*state);
    c.layout = parameterLayout(*m_program);
    if (auto r = writeCheckpoint(c, path); !r) return r;
    emit({TrainerEvent::Kind::Checkpoint, {}, path.string()});
    return {};
}

Result<void> Trainer::runEpochs(std::stop_token& token) {
    const TrainingSettings& s = m_config.settings;
    const int64_t spe = stepsPerEpoch();
    const auto& dir = m_config.checkpointDir;
    auto finish = [&](TrainerState state, const std::string& why) -> Result<void> {
        if (!dir.empty()) {
            if (auto r = saveCheckpoint(dir / "last.ckpt"); !r) return r;
        }
        refreshWeights();
        m_state = state;
        emit({TrainerEvent::Kind::Finished, {}, why});
        return {};
    };
    while (m_pos.epoch < s.epochs) {
        const auto epochStart = std::chrono::steady_clock::now();
        const std::vector<int64_t> order = epochOrder(m_pos.epoch);
        while (m_pos.batchInEpoch < spe) {
            // Steps go to the backend ahead of their results; whatever has to see the run as
            // it stands (a checkpoint, stop, pause, the step limit) lets the queue empty first.
            const int64_t next = m_pos.batchInEpoch + int64_t(m_queued.size());
            const bool interrupted =
                token.stop_requested() || m_pauseRequested || checkpointRequested() ||
                (m_config.maxSteps > 0 &&
                 m_pos.step + int64_t(m_queued.size()) >= m_config.maxSteps);
            if (!interrupted && next < spe) {
                if (auto r = queueStep(order, next); !r) return r;
                if (auto r = collectSteps(false, m_pos.epoch); !r) return r;
            } else if (auto r = collectSteps(true, m_pos.epoch); !r) {
                return r;
            }
            if (m_failed) {
                if (auto r = collectSteps(true, m_pos.epoch); !r) return r;  // drop the rest
                const Queued failed = *std::exchange(m_failed, std::nullopt);
                const std::span<const int64_t> indices(order.data() + failed.begin,
                                                       failed.count);
                std::string problem;
                if (auto r = bindBatch(*m_config.train, indices); !r) return r;
                problem = diagnoseNonFinite(failed.values);
                // Retry the same batch after resume (with whatever the person changed).
                if (!waitWhilePaused(token, problem)) {
                    return finish(TrainerState::Stopped, "stopped");
                }
                continue;
            }
            if (!m_queued.empty()) continue;
            serveCheckpointRequests();
            if (token.stop_requested()) return finish(TrainerState::Stopped, "stopped");
            if (m_config.maxSteps > 0 && m_pos.step >= m_config.maxSteps) {
                return finish(TrainerState::Stopped, "stopped");
            }
            if (m_pauseRequested && !waitWhilePaused(token, {})) {
                return finish(TrainerState::Stopped, "stopped");
            }
        }
        EpochMetrics m;
        m.epoch = m_pos.epoch;
        m.step = m_pos.step;
        m.trainLoss =
            m_pos.epochSamples ? m_pos.epochLossSum / double(m_pos.epochSamples) : kNoValue;
        if (m_classes > 0 && m_pos.epochCounted > 0) {
            m.trainAccuracy = double(m_pos.epochCorrect) / double(m_pos.epochCounted);
        }
        if (m_config.validation && m_config.validation->size() > 0) {
            auto v = evaluate(*m_config.validation);
            if (!v) return v.error();
            m.valLoss = v->valLoss;
            m.valAccuracy = v->valAccuracy;
            m.classes = v->classes;
            m.confusion = std::move(v->confusion);
            m.predictions = std::move(v->predictions);
            m.targets = std::move(v->targets);
            m.rowsPerSample = v->rowsPerSample;
        }
        m.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - epochStart).count();
        {
            std::lock_guard lock(m_mutex);
            // The history goes into every checkpoint: the per-row predictions stay out of it.
            EpochMetrics kept = m;
            kept.predictions.clear();
            kept.targets.clear();
            m_pos.history.push_back(std::move(kept));
        }
        m_pos.epoch += 1;
        m_pos.batchInEpoch = 0;
        m_pos.epochLossSum = 0;
        m_pos.epochSamples = m_pos.epochCorrect = m_pos.epochCounted = 0;
        const double metric = std::isfinite(m.valLoss) ? m.valLoss : m.trainLoss;
        const bool improved = !std::isfinite(m_pos.bestMetric) || metric < m_pos.bestMetric;
        if (improved) {
            m_pos.bestMetric = metric;
            m_pos.epochsWithoutImprovement = 0;
            if (!dir.empty()) {
                if (auto r = saveCheckpoint(dir / "best.ckpt"); !r) return r;
            }
        } else {
            m_pos.epochsWithoutImprovement += 1;
        }
        if (!dir.empty()) {
            if (auto r = saveCheckpoint(dir / "last.ckpt"); !r) return r;
        }
        refreshWeights();
        emit({TrainerEvent::Kind::EpochEnd, m, {}});
        if (s.earlyStoppingPatience > 0 &&
            m_pos.epochsWithoutImprovement >= s.earlyStoppingPatience) {
            return finish(TrainerState::Finished, "early stopping");
        }
    }
    return finish(TrainerState::Finished, "completed");
}

}  // namespace strata

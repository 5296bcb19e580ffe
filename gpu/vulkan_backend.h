#pragma once
// The Vulkan engine behind core's Backend interface. A Program's arenas become one device
// buffer each (parameters, gradients, optimizer state, activations); each phase of a step
// (forward in train or eval mode, backward, gradient norm, optimizer update) is recorded once per
// batch size with the layers' kernels (gpu/layer_kernels.h) and replayed. Everything that
// changes between replays (learning rate, step count, per-op seeds) sits in a small host-visible
// step buffer written before each submission.
//
// Pipelining: queueStep submits a recorded training step without waiting; up to kSlots steps are
// in flight, each with its own slot of step values, seeds and batch row numbers (what the host
// writes while earlier steps still run), and the host reads a step's results (loss, norm,
// accuracy) when it next needs the slot or asks for them: one step behind, never stalling the
// device. Each step also copies the parameters into its slot's host-visible mirror, and the
// host keeps the newest finished one: if the device is lost, downloadParameters() still gives
// the weights of the last completed step.
#include <deque>
#include <map>
#include <memory>
#include <tuple>

#include "core/engine/backend.h"
#include "gpu/device.h"
#include "gpu/layer_kernels.h"
#include "gpu/memory_arena.h"
#include "optimizer_push.h"
#include "gpu/pipeline_cache.h"
#include "gpu/recorder.h"

namespace strata::gpu {

class VulkanBackend : public Backend {
public:
    // The Vulkan device `index` of `instance` (see resolveDeviceChoice).
    static Result<std::unique_ptr<VulkanBackend>> create(std::shared_ptr<Instance> instance,
                                                         int index);
    ~VulkanBackend() override;

    std::string deviceName() const override;
    Result<void> prepare(const Program& program) override;
    Result<void> setInput(const std::string& field, std::span<const float> values,
                          int64_t n) override;
    Result<void> upload(TensorId id, std::span<const float> values, int64_t n) override;
    Result<std::vector<float>> download(TensorId id, int64_t n) override;
    Result<void> uploadParameters(std::span<const float> arena) override;
    Result<std::vector<float>> downloadParameters() override;
    Result<void> uploadOptimizerState(std::span<const float> arena) override;
    Result<std::vector<float>> downloadOptimizerState() override;
    Result<void> runForward(const StepValues& values, Mode mode, size_t begin = 0,
                            size_t end = SIZE_MAX) override;
    Result<void> runBackward(const StepValues& values, size_t begin = 0,
                             size_t end = SIZE_MAX) override;
    Result<float> gradientNorm(float clipTo) override;
    Result<void> optimizerStep(const StepValues& values) override;
    Result<float> loss() override;
    Result<StepResult> trainStep(const StepValues& values) override;
    Result<void> queueStep(const StepValues& values) override;
    Result<std::vector<StepResult>> finishedSteps(bool all) override;
    static constexpr size_t kSlots = 2;  // training steps in flight at most
    // Profiling: timestamps after every op (and after the norm, guard and update of a step);
    // timings() sums their differences over the replays since resetTimings().
    bool setProfiling(bool on) override;
    std::vector<OpTiming> timings() const override { return m_timings; }
    void resetTimings() override { m_timings.clear(); }
    int64_t deviceBytes() const override;  // device-local: arenas and scratch
    int64_t dispatchesPerStep() const override { return m_stepCommands; }
    bool keepsDataResident() const override { return true; }
    Result<bool> makeResident(int set, const std::string& field, std::span<const float> rows,
                              int64_t count) override;
    Result<void> selectRows(int set, std::span<const int64_t> indices) override;

    // The weights after the last step that completed (or the last upload), kept on the host as
    // steps finish; downloadParameters() gives them when the device cannot.
    const std::vector<float>& lastCompletedParameters() const { return m_hostParameters; }
    Device& device() const { return *m_device; }
    // Submissions since prepare (tests check that a step replays instead of re-recording).
    size_t recordings() const { return m_recordings; }

private:
    enum class Phase { Forward, Backward, Norm, Optimizer, Step, Gather };
    // phase, train mode, batch, first op, end op, clip norm bits
    using Key = std::tuple<Phase, bool, int64_t, size_t, size_t, uint32_t>;
    using RecordFn = std::function<Result<void>(Recorder&)>;

    VulkanBackend() = default;
    BufferRange rangeOf(TensorId id, int64_t n) const;
    BufferRange arenaRange(Arena a) const;
    int64_t batchOf(const StepValues& values) const;
    void writeStepValues(const StepValues& values);  // into slot m_slot
    // Replays the recording for `key`, recording it first with `record` when needed (and again
    // with a larger scratch buffer when a kernel asked for more than there was). Waits for it to
    // finish unless `wait` is false (and the backend is not profiling).
    Result<void> replay(const Key& key, const RecordFn& record, bool wait = true);
    // Waits for the queued steps (all of them, or those up to the one holding `slot`) and keeps
    // their results for finishedSteps.
    Result<void> drain();
    Result<void> makeRoom(size_t slot);
    Result<void> retireOldest();
    GpuOpContext opContext(Recorder& rec, const ProgramOp& op, int64_t n, bool training,
                           size_t forwardIndex);
    Result<void> recordForward(Recorder& rec, Mode mode, int64_t n, size_t begin, size_t end);
    Result<void> recordBackward(Recorder& rec, int64_t n, size_t begin, size_t end);
    Result<void> recordNorm(Recorder& rec);
    Result<void> recordClip(Recorder& rec, float clipTo);
    Result<void> recordOptimizer(Recorder& rec);
    bool classifies() const;  // the loss is cross_entropy: the step counts correct predictions
    Result<void> recordAccuracy(Recorder& rec, int64_t n);
    Result<BufferRange> scratch(uint64_t floats, const std::string& what);
    Result<void> mark(Recorder& rec, const std::string& label);  // a timestamp when profiling
    Result<void> collectTimings(Recorder& rec);
    // The step buffer holds kSlots slots (header, then one binding-aligned seed per forward op),
    // then the halt flag the steps in flight share. Recordings bind slot m_slot.
    uint64_t slotBytes() const;
    BufferRange stepHeader() const;
    BufferRange seedRange(size_t forwardOp) const;
    BufferRange stepField(size_t byteOffset) const;
    BufferRange haltFlag() const;
    const shader::StepValues& stepResults(size_t slot) const;  // what a submission left there

    std::shared_ptr<Instance> m_instance;
    std::unique_ptr<Device> m_device;
    std::unique_ptr<PipelineCache> m_pipelines;
    std::unique_ptr<StagingRing> m_staging;
    const Program* m_program = nullptr;
    std::unique_ptr<DeviceBuffer> m_params, m_grads, m_state, m_activations;
    // StepValues header, then one uvec2 seed per forward op, then the gradient norm's partial
    // results (host-visible: written before each replay, read after it).
    std::unique_ptr<DeviceBuffer> m_step;
    std::unique_ptr<DeviceBuffer> m_scratch;
    uint64_t m_scratchUsed = 0, m_scratchNeeded = 0;
    struct ResidentField {
        std::string field;
        int64_t rowFloats = 0;
        std::unique_ptr<DeviceBuffer> rows;
    };
    struct ResidentSet {
        std::vector<ResidentField> fields;
        // Host-visible: the batch's row numbers, one batch per slot.
        std::unique_ptr<DeviceBuffer> indices;
        Recorder* gathers[kSlots] = {};  // may still be running: their slot's rows are in use
    };
    std::map<int, ResidentSet> m_resident;
    std::map<Key, std::unique_ptr<Recorder>> m_recorded;
    size_t m_recordings = 0;
    size_t m_slot = 0;      // the slot recordings bind and the host writes
    uint64_t m_queued = 0;  // steps queued since prepare: the next one uses slot m_queued % kSlots
    struct InFlight {
        size_t slot;
        Recorder* rec;
    };
    std::deque<InFlight> m_inFlight;
    std::vector<StepResult> m_retired;  // results of finished steps not yet handed back
    std::unique_ptr<DeviceBuffer> m_mirror[kSlots];  // host-visible copies of the parameters
    std::vector<float> m_hostParameters;  // those of the last completed step (or upload)
    int64_t m_n = 0;
    bool m_profiling = false;
    std::vector<OpTiming> m_timings;
    int64_t m_stepCommands = -1;  // commands of the last trainStep, input copies included
    int64_t m_inputCopies = 0;    // setInput copies and row gathers since the last trainStep
};

// Makes createBackend("vulkan", "vulkan:N", "auto") build a VulkanBackend. Called once at
// startup by programs that link strata_gpu.
void registerVulkanBackend();

}  // namespace strata::gpu

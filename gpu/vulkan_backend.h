#pragma once
// The Vulkan engine behind core's Backend interface. A Program's arenas become one device
// buffer each (parameters, gradients, optimizer state, activations); each phase of a step
// (forward in train or eval mode, backward, gradient norm, optimizer update) is recorded once per
// batch size with the layers' kernels (gpu/layer_kernels.h) and replayed. Everything that
// changes between replays (learning rate, step count, per-op seeds) sits in a small host-visible
// step buffer written before each submission.
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
    bool keepsDataResident() const override { return true; }
    Result<bool> makeResident(int set, const std::string& field, std::span<const float> rows,
                              int64_t count) override;
    Result<void> selectRows(int set, std::span<const int64_t> indices) override;

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
    void writeStepValues(const StepValues& values);
    // Replays the recording for `key`, recording it first with `record` when needed (and again
    // with a larger scratch buffer when a kernel asked for more than there was).
    Result<void> replay(const Key& key, const RecordFn& record);
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
    BufferRange stepHeader() const;
    // Where forward op i's seed sits in the step buffer, past the header (binding-aligned).
    uint64_t seedOffset(size_t forwardOp) const;
    BufferRange stepField(size_t byteOffset) const;
    const shader::StepValues& stepResults() const;  // what the last submission left there

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
        std::unique_ptr<DeviceBuffer> indices;  // host-visible: the batch's row numbers
    };
    std::map<int, ResidentSet> m_resident;
    std::map<Key, std::unique_ptr<Recorder>> m_recorded;
    size_t m_recordings = 0;
    int64_t m_n = 0;
};

// Makes createBackend("vulkan", "vulkan:N", "auto") build a VulkanBackend. Called once at
// startup by programs that link strata_gpu.
void registerVulkanBackend();

}  // namespace strata::gpu

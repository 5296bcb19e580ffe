#pragma once
// The vendor-neutral interface every compute backend implements (CpuBackend here, VulkanBackend
// in gpu/). A backend owns the memory a Program describes and runs its ops.
//
// The contract is shaped so that a GPU backend can record a whole training step once and replay
// it: everything that changes from step to step travels in StepValues (a few scalars a backend
// keeps in a small device buffer), never in the recorded commands. Call order within one step:
//
//   setInput(...) for every input field      (the batch n of this step, n <= program.batch)
//   runForward(values, Mode::Train)          (writes activations, aux and the loss)
//   runBackward(values)                      (zeroes gradients, seeds d loss = 1, runs backward)
//   gradientNorm(clipTo)                     (global L2 norm; scales gradients when above clipTo)
//   optimizerStep(values)                    (updates the trainable arena and optimizer state)
//
// or trainStep(values), which does all four and refuses to apply an update whose loss or
// gradient norm is not finite (so the weights stay those of the last good step).
//
// Threads: a backend is used by one thread at a time (the Trainer's worker). Reads (download,
// loss) see the results of every call made before them. A tensor of the activation arena holds
// meaningful values only within its lifetime (ProgramTensor::firstUse..lastUse) unless pinned:
// download a non-pinned activation right after the forward that wrote it, with nothing between.
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/engine/program.h"
#include "core/util/result.h"

namespace strata {

// Values that change between steps without recompiling or re-recording.
struct StepValues {
    float learningRate = 0.0f;
    int64_t step = 1;       // 1-based optimizer step (Adam's bias correction)
    uint64_t seed = 0;      // per-step RNG seed; ops derive theirs with opSeed(seed, node)
    int64_t batch = 0;      // actual samples this step: 1..program.batch (a partial last batch)
    float clipNorm = 0.0f;  // trainStep: clip the global gradient norm to this; 0 = no clipping
};

enum class Mode { Train, Eval };  // Eval: dropout off, batch_norm uses running statistics

struct StepResult {
    float loss = 0.0f;
    float gradNorm = 0.0f;  // before clipping
    bool applied = false;   // false when loss or norm was not finite and nothing was updated
    // A cross_entropy model's correct predictions among the counted targets of this step, when
    // the backend measured them on the device (else correct < 0 and the Trainer counts them from
    // the downloaded logits).
    int64_t correct = -1;
    int64_t counted = 0;
};

struct OpTiming {
    std::string name;  // "fc1 forward", "fc1 backward", "optimizer"
    double seconds = 0.0;
    int64_t calls = 0;
};

class Backend {
public:
    virtual ~Backend() = default;

    // "CPU (OpenBLAS, 2 threads)", "NVIDIA GeForce RTX 3060 (Vulkan)".
    virtual std::string deviceName() const = 0;

    // Allocates the arenas the program describes (parameters zero until uploaded). The program
    // must outlive the backend's use of it. Refuses, with the size needed and the suggestion of
    // a smaller batch, a program that does not fit.
    virtual Result<void> prepare(const Program& program) = 0;

    // Writes a batch of one dataset field into every input bound to it: `values` holds n samples
    // (n * sampleSize floats, integers as exact floats), n <= program.batch.
    virtual Result<void> setInput(const std::string& field, std::span<const float> values,
                                  int64_t n) = 0;

    // Any program tensor; batched tensors are viewed with the actual batch n (ignored otherwise).
    virtual Result<void> upload(TensorId id, std::span<const float> values, int64_t n) = 0;
    virtual Result<std::vector<float>> download(TensorId id, int64_t n) = 0;

    // Whole arenas, laid out as the program says (parameterFloats, and
    // optimizerStateSlots * trainableFloats).
    virtual Result<void> uploadParameters(std::span<const float> arena) = 0;
    virtual Result<std::vector<float>> downloadParameters() = 0;
    virtual Result<void> uploadOptimizerState(std::span<const float> arena) = 0;
    virtual Result<std::vector<float>> downloadOptimizerState() = 0;

    // Runs forward ops [begin, end) (all by default). Running a sub-range lets the Trainer find
    // the first op that produced a non-finite value; a replaying backend may run those one by one.
    virtual Result<void> runForward(const StepValues& values, Mode mode, size_t begin = 0,
                                    size_t end = SIZE_MAX) = 0;
    // Zeroes the gradient arena and sets d loss = 1, then runs backward ops [begin, end). A call
    // with begin > 0 continues a backward pass and zeroes nothing.
    virtual Result<void> runBackward(const StepValues& values, size_t begin = 0,
                                     size_t end = SIZE_MAX) = 0;
    // The global L2 norm of the gradient arena; when clipTo > 0 and the norm exceeds it, scales
    // every gradient by clipTo / (norm + 1e-6) (PyTorch's clip_grad_norm_).
    virtual Result<float> gradientNorm(float clipTo) = 0;
    virtual Result<void> optimizerStep(const StepValues& values) = 0;
    // The loss of the last forward (mean over its n samples).
    virtual Result<float> loss() = 0;

    // Forward, backward, clipping and update as one step; see the class comment.
    virtual Result<StepResult> trainStep(const StepValues& values);

    // Pipelined training: queueStep starts what trainStep does and may return before the step
    // has run (a GPU backend keeps a step or two in flight so the device never waits for the
    // host); finishedSteps hands back the results of queued steps in queue order: those finished
    // by now, or every one of them when `all` (waiting for them). Once a queued step is not
    // applied, the steps queued behind it are not applied either, so the weights stay those of
    // the last good step. Every other call waits for the queued steps first. The default runs
    // each step at once through trainStep.
    virtual Result<void> queueStep(const StepValues& values);
    virtual Result<std::vector<StepResult>> finishedSteps(bool all);

    // Datasets resident in device memory, so that a step uploads at most its row indices. A
    // backend that keeps data resident says so; the Trainer then hands it whole fields of a
    // dataset (`set`: 0 training, 1 validation; rows of the field's sample size) and selects each
    // batch by index. makeResident returns false when a field does not fit (the Trainer falls
    // back to setInput for that set).
    virtual bool keepsDataResident() const { return false; }
    virtual Result<bool> makeResident(int set, const std::string& field,
                                      std::span<const float> rows, int64_t count) {
        (void)set, (void)field, (void)rows, (void)count;
        return false;
    }
    // Gathers rows `indices` of resident set `set` into every input bound to its fields.
    virtual Result<void> selectRows(int set, std::span<const int64_t> indices) {
        (void)set, (void)indices;
        return fail("this backend keeps no data resident");
    }

    // Cumulative time per op since the last reset; empty when the backend does not measure.
    virtual std::vector<OpTiming> timings() const { return {}; }
    virtual void resetTimings() {}
    // Asks for per-op timings in timings() (a GPU backend then records a timestamp after every
    // op, which re-records the step and may slow it). Returns whether the backend can measure;
    // a backend that always measures (the CPU's) need not override it.
    virtual bool setProfiling(bool on) {
        (void)on;
        return false;
    }

    // Bytes the backend holds for the prepared program (arenas, scratch, staging; not the
    // resident data), for `strata bench`; -1 when it does not say.
    virtual int64_t deviceBytes() const { return -1; }
    // Kernel dispatches plus transfer commands of the last trainStep, the uploads or row
    // gathers that filled its inputs included; -1 when the backend does not count them.
    virtual int64_t dispatchesPerStep() const { return -1; }

private:
    std::vector<StepResult> m_finished;  // the default queueStep's results, not yet handed back
};

// The input tensors a batch of `field` goes to, once n is checked against the compiled batch and
// `count` against n samples of the field. Every backend's setInput starts here.
Result<std::vector<TensorId>> inputTensorsFor(const Program& program, const std::string& field,
                                              size_t count, int64_t n);
// n samples fit the compiled batch (1 <= n <= program.batch).
Result<void> checkBatch(const Program& program, int64_t n);

// Device choice: "cpu"; "auto" (a registered GPU backend's own choice, else the CPU); any other
// name ("vulkan", "vulkan:1", "lavapipe") goes to the registered factory. With "auto", the
// STRATA_DEVICE environment variable, when set, is used instead.
Result<std::unique_ptr<Backend>> createBackend(const std::string& device);

// gpu/ registers its factory at startup (core never includes Vulkan). The factory receives the
// device name ("auto" included) and returns an error sentence when it cannot serve it; for
// "auto" that error makes createBackend fall back to the CPU.
using BackendFactory = Result<std::unique_ptr<Backend>> (*)(const std::string& device);
void registerBackendFactory(BackendFactory factory);

// The device names createBackend accepts, for pickers (the studio's device box): what
// `strata devices` lists. "auto" and "cpu" always; then whatever the registered lister reports
// (gpu/ registers one that enumerates the Vulkan devices as "vulkan:N").
struct DeviceOption {
    std::string name;         // "auto", "cpu", "vulkan:0"
    std::string description;  // "CPU backend (loops + OpenBLAS)", "NVIDIA RTX 3060 (discrete GPU)"
};
using DeviceLister = std::vector<DeviceOption> (*)();
void registerDeviceLister(DeviceLister lister);
std::vector<DeviceOption> availableDevices();

}  // namespace strata

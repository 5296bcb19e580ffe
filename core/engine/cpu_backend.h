#pragma once
// The reference backend: each op runs its layer's CPU kernel (LayerSpec::forward/backward) on
// views into host arenas. Plain and obviously correct; the oracle for every GPU kernel.
#include <chrono>
#include <vector>

#include "core/engine/backend.h"

namespace strata {

class CpuBackend : public Backend {
public:
    // threads > 0 sets OpenBLAS's thread count (process-wide); 0 keeps OpenBLAS's choice.
    explicit CpuBackend(int threads = 0);

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
    // Same defaults as Backend (defaults bind to the static type).
    Result<void> runForward(const StepValues& values, Mode mode, size_t begin = 0,
                            size_t end = SIZE_MAX) override;
    Result<void> runBackward(const StepValues& values, size_t begin = 0,
                             size_t end = SIZE_MAX) override;
    Result<float> gradientNorm(float clipTo) override;
    Result<void> optimizerStep(const StepValues& values) override;
    Result<float> loss() override;
    std::vector<OpTiming> timings() const override { return m_timings; }
    void resetTimings() override;

private:
    TensorView view(TensorId id, int64_t n);
    float* base(const ProgramTensor& t);
    OpContext context(const ProgramOp& op, int64_t n);
    void buildContexts(int64_t n);
    void time(size_t slot, std::chrono::steady_clock::time_point start);

    const Program* m_program = nullptr;
    std::vector<float> m_params, m_grads, m_state, m_activations;
    int64_t m_n = 0;                  // batch of the last setInput
    std::vector<OpTiming> m_timings;  // forward ops, backward ops, then the optimizer
    int m_threads = 0;
    std::vector<double> m_normBlocks;  // gradientNorm's per-block sums of squares
    // Each op's views at batch m_contextN (-1: none built); seed and mode are set per call.
    std::vector<OpContext> m_forwardContexts, m_backwardContexts;
    int64_t m_contextN = -1;  // gradientNorm's per-block sums of squares
};

// OpenBLAS threads for the whole process (the CPU backend's GEMMs).
void setCpuThreads(int threads);
int cpuThreads();

}  // namespace strata

#include "core/engine/cpu_backend.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/engine/cpu_math.h"
#include "core/train/optimizer.h"

namespace strata {

void setCpuThreads(int threads) {
    if (threads > 0) cpu::setThreads(threads);
}

int cpuThreads() {
    return cpu::threads();
}

CpuBackend::CpuBackend(int threads) : m_threads(threads) {
    setCpuThreads(threads);
}

std::string CpuBackend::deviceName() const {
    return "CPU (OpenBLAS, " + std::to_string(cpuThreads()) + " threads)";
}

Result<void> CpuBackend::prepare(const Program& program) {
    m_program = &program;
    try {
        m_params.assign(static_cast<size_t>(program.parameterFloats), 0.0f);
        m_grads.assign(static_cast<size_t>(program.trainableFloats), 0.0f);
        m_state.assign(program.optimizerState.size() * static_cast<size_t>(program.trainableFloats),
                       0.0f);
        m_activations.assign(static_cast<size_t>(program.activationFloats), 0.0f);
    } catch (const std::bad_alloc&) {
        const double mb =
            4.0 * static_cast<double>(program.activationFloats + 2 * program.parameterFloats) / 1e6;
        return fail("the model needs about " + std::to_string(static_cast<int64_t>(mb)) +
                    " MB of memory, more than this machine can give; try a smaller batch size");
    }
    m_n = program.batch;
    m_contextN = -1;
    m_forwardContexts.clear();
    m_backwardContexts.clear();
    resetTimings();
    return {};
}

void CpuBackend::resetTimings() {
    m_timings.clear();
    if (!m_program) return;
    for (const auto& op : m_program->forward) m_timings.push_back({op.name + " forward"});
    for (const auto& op : m_program->backward) m_timings.push_back({op.name + " backward"});
    m_timings.push_back({"optimizer"});
}

void CpuBackend::time(size_t slot, std::chrono::steady_clock::time_point start) {
    const auto d = std::chrono::steady_clock::now() - start;
    m_timings[slot].seconds += std::chrono::duration<double>(d).count();
    m_timings[slot].calls += 1;
}

float* CpuBackend::base(const ProgramTensor& t) {
    switch (t.arena) {
        case Arena::Parameters:
            return m_params.data() + t.offset;
        case Arena::Gradients:
            return m_grads.data() + t.offset;
        case Arena::OptimizerState:
            return m_state.data() + t.offset;
        case Arena::Activations:
            return m_activations.data() + t.offset;
    }
    return nullptr;
}

TensorView CpuBackend::view(TensorId id, int64_t n) {
    if (!id.valid()) return {};
    const ProgramTensor& t = m_program->tensor(id);
    return TensorView{base(t), t.shapeAt(n)};
}

OpContext CpuBackend::context(const ProgramOp& op, int64_t n) {
    OpContext c{.params = op.params};
    for (TensorId t : op.inputs) c.inputs.push_back(view(t, n));
    for (TensorId t : op.outputs) c.outputs.push_back(view(t, n));
    for (TensorId t : op.weights) c.weights.push_back(view(t, n));
    for (TensorId t : op.aux) c.aux.push_back(view(t, n));
    for (TensorId t : op.gradOutputs) c.gradOutputs.push_back(view(t, n));
    for (TensorId t : op.gradInputs) c.gradInputs.push_back(view(t, n));
    for (TensorId t : op.gradWeights) c.gradWeights.push_back(view(t, n));
    return c;
}

// The views of every op depend only on the batch, so they are built once per batch size rather
// than once per op and step (seven vectors and their shapes each time).
void CpuBackend::buildContexts(int64_t n) {
    if (n == m_contextN) return;
    m_forwardContexts.clear();
    m_backwardContexts.clear();
    for (const ProgramOp& op : m_program->forward) m_forwardContexts.push_back(context(op, n));
    for (const ProgramOp& op : m_program->backward) m_backwardContexts.push_back(context(op, n));
    m_contextN = n;
}

Result<void> CpuBackend::setInput(const std::string& field, std::span<const float> values,
                                  int64_t n) {
    if (!m_program) return fail("the backend has no program; call prepare first");
    auto targets = inputTensorsFor(*m_program, field, values.size(), n);
    if (!targets) return targets.error();
    for (TensorId t : *targets) std::copy(values.begin(), values.end(), base(m_program->tensor(t)));
    m_n = n;
    return {};
}

Result<void> CpuBackend::upload(TensorId id, std::span<const float> values, int64_t n) {
    const ProgramTensor& t = m_program->tensor(id);
    if (static_cast<int64_t>(values.size()) != t.numelAt(n)) {
        return fail("tensor '" + t.name + "' holds " + std::to_string(t.numelAt(n)) +
                    " values, not " + std::to_string(values.size()));
    }
    std::copy(values.begin(), values.end(), base(t));
    return {};
}

Result<std::vector<float>> CpuBackend::download(TensorId id, int64_t n) {
    const ProgramTensor& t = m_program->tensor(id);
    const float* p = base(t);
    return std::vector<float>(p, p + t.numelAt(n));
}

Result<void> CpuBackend::uploadParameters(std::span<const float> arena) {
    if (arena.size() != m_params.size()) {
        return fail("the parameter arena holds " + std::to_string(m_params.size()) +
                    " values, not " + std::to_string(arena.size()));
    }
    std::copy(arena.begin(), arena.end(), m_params.begin());
    return {};
}

Result<std::vector<float>> CpuBackend::downloadParameters() {
    return m_params;
}

Result<void> CpuBackend::uploadOptimizerState(std::span<const float> arena) {
    if (arena.size() != m_state.size()) {
        return fail("the optimizer state holds " + std::to_string(m_state.size()) +
                    " values, not " + std::to_string(arena.size()));
    }
    std::copy(arena.begin(), arena.end(), m_state.begin());
    return {};
}

Result<std::vector<float>> CpuBackend::downloadOptimizerState() {
    return m_state;
}

Result<void> CpuBackend::runForward(const StepValues& values, Mode mode, size_t begin, size_t end) {
    if (!m_program) return fail("the backend has no program; call prepare first");
    end = std::min(end, m_program->forward.size());
    buildContexts(values.batch > 0 ? values.batch : m_n);
    for (size_t i = begin; i < end; ++i) {
        const ProgramOp& op = m_program->forward[i];
        if (!op.spec->forward) {
            return fail(op.spec->id + " '" + op.name + "' has no CPU kernel yet");
        }
        OpContext& c = m_forwardContexts[i];
        c.training = mode == Mode::Train;
        c.seed = opSeed(values.seed, op.node);
        const auto start = std::chrono::steady_clock::now();
        op.spec->forward(c);
        time(i, start);
    }
    return {};
}

Result<void> CpuBackend::runBackward(const StepValues& values, size_t begin, size_t end) {
    if (!m_program) return fail("the backend has no program; call prepare first");
    const Program& p = *m_program;
    const int64_t n = values.batch > 0 ? values.batch : m_n;
    if (begin == 0) {
        float* g = m_grads.data();
        cpu::parallelChunks(static_cast<int64_t>(m_grads.size()), int64_t{1} << 16,
                            [g](int64_t b, int64_t e) { std::fill(g + b, g + e, 0.0f); });
        if (p.lossGradient.valid()) *base(p.tensor(p.lossGradient)) = 1.0f;
    }
    end = std::min(end, p.backward.size());
    buildContexts(n);
    for (size_t j = begin; j < end; ++j) {
        const ProgramOp& op = p.backward[j];
        if (!op.spec->backward) {
            return fail(op.spec->id + " '" + op.name + "' has no CPU backward yet");
        }
        const auto start = std::chrono::steady_clock::now();
        for (TensorId z : op.zeroBefore) {
            const ProgramTensor& t = p.tensor(z);
            std::fill_n(base(t), t.numelAt(n), 0.0f);
        }
        OpContext& c = m_backwardContexts[j];
        c.training = true;
        c.seed = opSeed(values.seed, op.node);
        op.spec->backward(c);
        time(p.forward.size() + j, start);
    }
    return {};
}

namespace {

// Sum of squares of a block of at most kNormBlock floats in sixteen float lanes: four vectors of
// four that stay in registers (an array of sixteen sums went through memory on every step, a
// double accumulator would not vectorise). Each lane adds at most kNormBlock / 16 squares, so
// float rounding stays near 1e-6 relative; blocks are summed in double.
constexpr int64_t kNormBlock = 4096;

float blockSumOfSquares(const float* g, int64_t count) {
    typedef float Vec4 __attribute__((vector_size(16)));
    Vec4 a0 = {}, a1 = {}, a2 = {}, a3 = {};
    int64_t i = 0;
    for (; i + 16 <= count; i += 16) {
        Vec4 v0, v1, v2, v3;
        std::memcpy(&v0, g + i, sizeof v0);
        std::memcpy(&v1, g + i + 4, sizeof v1);
        std::memcpy(&v2, g + i + 8, sizeof v2);
        std::memcpy(&v3, g + i + 12, sizeof v3);
        a0 += v0 * v0;
        a1 += v1 * v1;
        a2 += v2 * v2;
        a3 += v3 * v3;
    }
    const Vec4 a = (a0 + a1) + (a2 + a3);
    float sum = (a[0] + a[1]) + (a[2] + a[3]);
    for (; i < count; ++i) sum += g[i] * g[i];
    return sum;
}

}  // namespace

Result<float> CpuBackend::gradientNorm(float clipTo) {
    const float* g = m_grads.data();
    const int64_t count = static_cast<int64_t>(m_grads.size());
    const int64_t blocks = (count + kNormBlock - 1) / kNormBlock;
    // One double per block, summed in block order afterwards: the norm does not depend on how
    // the blocks were shared among threads.
    m_normBlocks.resize(static_cast<size_t>(blocks));
    double* partial = m_normBlocks.data();
    cpu::parallelChunks(blocks, 8, [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
            const int64_t begin = b * kNormBlock, end = std::min(count, begin + kNormBlock);
            partial[b] = blockSumOfSquares(g + begin, end - begin);
        }
    });
    double sum = 0.0;
    for (int64_t b = 0; b < blocks; ++b) sum += partial[b];
    const double norm = std::sqrt(sum);
    if (clipTo > 0 && norm > clipTo && std::isfinite(norm)) {
        const float scale = static_cast<float>(clipTo / (norm + 1e-6));
        for (float& v : m_grads) v *= scale;
    }
    return static_cast<float>(norm);
}

Result<void> CpuBackend::optimizerStep(const StepValues& values) {
    if (!m_program) return fail("the backend has no program; call prepare first");
    const auto start = std::chrono::steady_clock::now();
    optimizerUpdate(m_program->optimizer, values.learningRate, values.step, m_params.data(),
                    m_grads.data(), m_state.data(), m_program->trainableFloats);
    time(m_timings.size() - 1, start);
    return {};
}

Result<float> CpuBackend::loss() {
    if (!m_program || !m_program->loss.valid()) return fail("the program has no loss");
    return *base(m_program->tensor(m_program->loss));
}

}  // namespace strata

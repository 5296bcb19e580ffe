#include "gpu/vulkan_backend.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>

#include "core/engine/cpu_backend.h"
#include "gpu/layer_kernels.h"
#include "gpu/ops/gather.h"
#include "gpu/ops/metrics.h"
#include "gpu/ops/optimizer.h"
#include "gpu/ops/reduce.h"
#include "gpu/vk_check.h"
#include "optimizer_push.h"

namespace strata::gpu {

namespace {

constexpr uint32_t kOneBits = 0x3f800000u;  // 1.0f: the seed of backward, d loss / d loss
// Uploads and downloads pass through this in chunks: big enough for a batch or a layer's weights
// in one copy, small beside the model (it counts towards the device memory a run holds).
constexpr uint64_t kStagingBytes = 1 << 20;
// Scratch starts small and grows to what the largest op asks for (whole recordings are redone).
constexpr uint64_t kScratchQuantum = 64 << 10;

uint64_t alignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

}  // namespace

Result<std::unique_ptr<VulkanBackend>> VulkanBackend::create(std::shared_ptr<Instance> instance,
                                                             int index) {
    std::unique_ptr<VulkanBackend> self(new VulkanBackend());
    self->m_instance = instance;
    auto device = Device::create(instance, index);
    if (!device) return device.error();
    self->m_device = std::move(*device);
    auto pipelines = PipelineCache::create(*self->m_device);
    if (!pipelines) return pipelines.error();
    self->m_pipelines = std::move(*pipelines);
    auto staging = StagingRing::create(*self->m_device, kStagingBytes);
    if (!staging) return staging.error();
    self->m_staging = std::move(*staging);
    return self;
}

VulkanBackend::~VulkanBackend() {
    // Recordings hold descriptor pools and command buffers of the device: release them first.
    m_recorded.clear();
}

std::string VulkanBackend::deviceName() const {
    return m_device->info().name + " (Vulkan, " + m_device->info().driverName + ")";
}

Result<void> VulkanBackend::prepare(const Program& program) {
    if (m_program) (void)drain();  // a failed step of the last program changes nothing now
    m_recorded.clear();
    m_resident.clear();
    m_inFlight.clear();
    m_retired.clear();
    m_program = &program;
    m_n = program.batch;
    m_recordings = 0;
    m_queued = 0;
    m_slot = 0;
    auto make = [&](int64_t floats, bool host, const std::string& what,
                    std::unique_ptr<DeviceBuffer>& out) -> Result<void> {
        auto b = DeviceBuffer::create(*m_device, uint64_t(std::max<int64_t>(floats, 1)) * 4, host,
                                      what);
        if (!b) {
            return fail(b.message() + " (batch " + std::to_string(program.batch) + ")");
        }
        out = std::move(*b);
        return {};
    };
    const int64_t stateFloats = int64_t(program.optimizerState.size()) * program.trainableFloats;
    STRATA_TRY(make(program.parameterFloats, false, "the parameters", m_params));
    STRATA_TRY(make(program.trainableFloats, false, "the gradients", m_grads));
    STRATA_TRY(make(stateFloats, false, "the optimizer state", m_state));
    STRATA_TRY(make(program.activationFloats, false, "the activations", m_activations));
    const uint64_t stepBytes = kSlots * slotBytes() + 4;  // the slots, then the halt flag
    STRATA_TRY(make(int64_t(stepBytes / 4), true, "the step values", m_step));
    std::memset(m_step->mapped(), 0, m_step->size());
    for (auto& mirror : m_mirror) {
        STRATA_TRY(make(program.parameterFloats, true, "the parameters' host copy", mirror));
    }
    m_hostParameters.assign(size_t(program.parameterFloats), 0.0f);
    if (!m_scratch) {
        STRATA_TRY(make(int64_t(kScratchQuantum / 4), false, "the scratch space", m_scratch));
    }
    // Parameters start at zero until uploaded, like the CPU backend; so do gradients and state.
    return m_device->runOnce([&](VkCommandBuffer cmd) {
        for (auto* b : {m_params.get(), m_grads.get(), m_state.get()}) {
            vkCmdFillBuffer(cmd, b->handle(), 0, VK_WHOLE_SIZE, 0);
        }
        // Later kernels and copies read and overwrite what the fills wrote.
        VkMemoryBarrier barrier{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
        barrier.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
        barrier.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
        vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                             VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                             0, 1, &barrier, 0, nullptr, 0, nullptr);
    });
}

BufferRange VulkanBackend::arenaRange(Arena a) const {
    switch (a) {
        case Arena::Parameters:
            return {m_params->handle(), 0, uint64_t(m_program->parameterFloats) * 4};
        case Arena::Gradients:
            return {m_grads->handle(), 0, uint64_t(m_program->trainableFloats) * 4};
        case Arena::OptimizerState:
            return {m_state->handle(), 0,
                    uint64_t(m_program->optimizerState.size()) *
                        uint64_t(m_program->trainableFloats) * 4};
        case Arena::Activations:
            return {m_activations->handle(), 0, uint64_t(m_program->activationFloats) * 4};
    }
    return {};
}

BufferRange VulkanBackend::rangeOf(TensorId id, int64_t n) const {
    if (!id.valid()) return {};
    const ProgramTensor& t = m_program->tensor(id);
    const BufferRange arena = arenaRange(t.arena);
    return {arena.buffer, uint64_t(t.offset) * 4, uint64_t(t.numelAt(n)) * 4};
}

int64_t VulkanBackend::batchOf(const StepValues& values) const {
    return values.batch > 0 ? values.batch : m_n;
}

void VulkanBackend::writeStepValues(const StepValues& values) {
    auto* base = static_cast<uint8_t*>(m_step->mapped()) + m_slot * slotBytes();
    shader::StepValues header{};
    header.learningRate = values.learningRate;
    header.step = uint32_t(values.step);
    header.seedLo = uint32_t(values.seed);
    header.seedHi = uint32_t(values.seed >> 32);
    std::memcpy(base, &header, sizeof header);  // skip, loss and normSquared start at 0
    for (size_t i = 0; i < m_program->forward.size(); ++i) {
        const uint64_t s = opSeed(values.seed, m_program->forward[i].node);
        const uint32_t words[2] = {uint32_t(s), uint32_t(s >> 32)};
        std::memcpy(base + (seedRange(i).offset - m_slot * slotBytes()), words, sizeof words);
    }
}

Result<BufferRange> VulkanBackend::scratch(uint64_t floats, const std::string& what) {
    const uint64_t align = m_device->bindingAlignment();
    const uint64_t start = alignUp(m_scratchUsed, align);
    const uint64_t end = start + std::max<uint64_t>(floats, 1) * 4;
    m_scratchNeeded = std::max(m_scratchNeeded, end);
    if (end > m_scratch->size()) {
        return fail("the scratch space (" + byteText(m_scratch->size()) + ") is too small for " +
                    what);
    }
    m_scratchUsed = end;
    return BufferRange{m_scratch->handle(), start, floats * 4};
}

Result<void> VulkanBackend::replay(const Key& key, const RecordFn& record, bool wait) {
    auto it = m_recorded.find(key);
    if (it == m_recorded.end()) {
        for (;;) {
            auto rec = Recorder::create(*m_device, *m_pipelines);
            if (!rec) return rec.error();
            m_scratchNeeded = 0;
            auto r = mark(**rec, "(start)");
            if (r) r = record(**rec);
            // A recording stops at the first kernel the scratch is too small for, and a later
            // one may need more still: grow until it fits (each retry grows the buffer).
            if (!r && m_scratchNeeded > m_scratch->size()) {
                // Every recording binds the scratch buffer: drop them all with the old one, once
                // the steps in flight have finished with them.
                STRATA_TRY(drain());
                m_recorded.clear();
                auto bigger = DeviceBuffer::create(*m_device, alignUp(m_scratchNeeded, kScratchQuantum),
                                                   false, "the scratch space");
                if (!bigger) return bigger.error();
                m_scratch = std::move(*bigger);
                continue;
            }
            if (!r) return r;
            STRATA_TRY((*rec)->finish());
            it = m_recorded.emplace(key, std::move(*rec)).first;
            ++m_recordings;
            break;
        }
    }
    if (!wait && !m_profiling) return it->second->submit();
    STRATA_TRY(it->second->run());
    return m_profiling ? collectTimings(*it->second) : Result<void>{};
}

Result<void> VulkanBackend::mark(Recorder& rec, const std::string& label) {
    return m_profiling ? rec.timestamp(label) : Result<void>{};
}

Result<void> VulkanBackend::collectTimings(Recorder& rec) {
    auto marks = rec.readTimestamps();
    if (!marks) return marks.error();
    // Each mark closes the interval since the one before it (the first is "(start)").
    for (size_t i = 1; i < marks->size(); ++i) {
        const std::string& label = (*marks)[i].label;
        const double seconds = (*marks)[i].seconds - (*marks)[i - 1].seconds;
        auto it = std::find_if(m_timings.begin(), m_timings.end(),
                               [&](const OpTiming& t) { return t.name == label; });
        if (it == m_timings.end()) it = m_timings.insert(m_timings.end(), OpTiming{label});
        it->seconds += std::max(0.0, seconds);
        it->calls += 1;
    }
    return {};
}

bool VulkanBackend::setProfiling(bool on) {
    if (on != m_profiling) {  // recordings with or without timestamps
        (void)drain();
        m_recorded.clear();
    }
    m_profiling = on;
    m_timings.clear();
    return true;
}

int64_t VulkanBackend::deviceBytes() const {
    // Device-local buffers only: the staging ring, the step values and the parameters' host
    // copies are host-visible memory, which a GPU keeps in host RAM.
    uint64_t bytes = 0;
    for (const auto* b : {&m_params, &m_grads, &m_state, &m_activations, &m_scratch}) {
        if (*b) bytes += (*b)->size();
    }
    return int64_t(bytes);
}

GpuOpContext VulkanBackend::opContext(Recorder& rec, const ProgramOp& op, int64_t n,
                                      bool training, size_t forwardIndex) {
    GpuOpContext c{.rec = rec,
                   .params = op.params,
                   .name = op.name,
                   .training = training,
                   .seed = seedRange(forwardIndex)};
    auto tensors = [&](const std::vector<TensorId>& ids, std::vector<GpuTensor>& out) {
        for (TensorId id : ids) {
            out.push_back(id.valid() ? GpuTensor{rangeOf(id, n), m_program->tensor(id).shapeAt(n)}
                                     : GpuTensor{});
        }
    };
    tensors(op.inputs, c.inputs);
    tensors(op.outputs, c.outputs);
    tensors(op.weights, c.weights);
    tensors(op.aux, c.aux);
    tensors(op.gradOutputs, c.gradOutputs);
    tensors(op.gradInputs, c.gradInputs);
    tensors(op.gradWeights, c.gradWeights);
    m_scratchUsed = 0;  // each op's scratch starts afresh; the recorder orders the reuse
    c.scratch = [this](uint64_t floats, const std::string& what) { return scratch(floats, what); };
    return c;
}

Result<void> VulkanBackend::recordForward(Recorder& rec, Mode mode, int64_t n, size_t begin,
                                          size_t end) {
    for (size_t i = begin; i < end; ++i) {
        const ProgramOp& op = m_program->forward[i];
        const GpuLayerKernels* k = findGpuKernels(op.spec->id);
        if (!k || !k->forward) {
            return fail(op.spec->id + " '" + op.name +
                        "' has no Vulkan kernel; train this model with --device cpu");
        }
        if (auto r = k->forward(opContext(rec, op, n, mode == Mode::Train, i)); !r) {
            return fail(op.name + " forward: " + r.message());
        }
        STRATA_TRY(mark(rec, op.name + " forward"));
    }
    return {};
}

Result<void> VulkanBackend::recordBackward(Recorder& rec, int64_t n, size_t begin, size_t end) {
    const Program& p = *m_program;
    if (begin == 0) {
        if (p.trainableFloats > 0) {
            STRATA_TRY(rec.fill(arenaRange(Arena::Gradients), 0, "zero the gradients"));
        }
        if (p.lossGradient.valid()) {
            STRATA_TRY(rec.fill(rangeOf(p.lossGradient, n), kOneBits, "d loss / d loss = 1"));
        }
        STRATA_TRY(mark(rec, "zero the gradients"));
    }
    for (size_t j = begin; j < end; ++j) {
        const ProgramOp& op = p.backward[j];
        const GpuLayerKernels* k = findGpuKernels(op.spec->id);
        if (!k || !k->backward) {
            return fail(op.spec->id + " '" + op.name +
                        "' has no Vulkan backward; train this model with --device cpu");
        }
        for (TensorId z : op.zeroBefore) {
            STRATA_TRY(rec.fill(rangeOf(z, n), 0, "zero " + p.tensor(z).name));
        }
        if (auto r = k->backward(opContext(rec, op, n, true, size_t(op.forwardIndex))); !r) {
            return fail(op.name + " backward: " + r.message());
        }
        STRATA_TRY(mark(rec, op.name + " backward"));
    }
    return {};
}

uint64_t VulkanBackend::slotBytes() const {
    const uint64_t align = m_device->bindingAlignment();
    return alignUp(sizeof(shader::StepValues), align) + align * m_program->forward.size();
}

BufferRange VulkanBackend::stepHeader() const {
    return {m_step->handle(), m_slot * slotBytes(), sizeof(shader::StepValues)};
}

BufferRange VulkanBackend::seedRange(size_t forwardOp) const {
    const uint64_t align = m_device->bindingAlignment();
    return {m_step->handle(),
            m_slot * slotBytes() + alignUp(sizeof(shader::StepValues), align) + align * forwardOp,
            8};
}

BufferRange VulkanBackend::stepField(size_t byteOffset) const {
    return {m_step->handle(), m_slot * slotBytes() + byteOffset, 4};
}

BufferRange VulkanBackend::haltFlag() const {
    return {m_step->handle(), kSlots * slotBytes(), 4};
}

const shader::StepValues& VulkanBackend::stepResults(size_t slot) const {
    return *reinterpret_cast<const shader::StepValues*>(static_cast<const uint8_t*>(
                                                            m_step->mapped()) +
                                                        slot * slotBytes());
}

Result<void> VulkanBackend::recordNorm(Recorder& rec) {
    const BufferRange out = stepField(offsetof(shader::StepValues, normSquared));
    if (m_program->trainableFloats == 0) return rec.fill(out, 0, "no gradients: norm 0");
    const BufferRange grads = arenaRange(Arena::Gradients);
    m_scratchUsed = 0;
    auto partials = scratch(ops::squaredNormPartials(*m_device, grads), "the norm's partial sums");
    if (!partials) return partials.error();
    return ops::recordSquaredNorm(rec, grads, *partials, out);
}

Result<void> VulkanBackend::recordClip(Recorder& rec, float clipTo) {
    if (m_program->trainableFloats == 0) return {};
    return ops::recordClipScale(rec, arenaRange(Arena::Gradients),
                                stepField(offsetof(shader::StepValues, normSquared)), clipTo);
}

bool VulkanBackend::classifies() const {
    return m_program->lossOp >= 0 &&
           m_program->forward[size_t(m_program->lossOp)].spec->id == "cross_entropy";
}

Result<void> VulkanBackend::recordAccuracy(Recorder& rec, int64_t n) {
    if (!classifies()) return {};
    const ProgramOp& op = m_program->forward[size_t(m_program->lossOp)];
    const ProgramTensor& logits = m_program->tensor(op.inputs[0]);
    const uint32_t classes = uint32_t(logits.shape[-1]);
    const uint32_t rows = uint32_t(logits.numelAt(n) / classes);
    m_scratchUsed = 0;
    auto predictions = scratch(rows, "the step's predictions");
    if (!predictions) return predictions.error();
    return ops::recordArgmaxAccuracy(
        rec, {.rows = rows,
              .classes = classes,
              .ignoreIndex = int32_t(getInt(op.params, "ignore_index")),
              .logits = rangeOf(op.inputs[0], n),
              .targets = rangeOf(op.inputs[1], n),
              .predictions = *predictions,
              .correct = stepField(offsetof(shader::StepValues, correct)),
              .counted = stepField(offsetof(shader::StepValues, counted))});
}

Result<void> VulkanBackend::recordOptimizer(Recorder& rec) {
    const Program& p = *m_program;
    const OptimizerSettings& o = p.optimizer;
    const uint64_t n = uint64_t(p.trainableFloats);
    if (n == 0) return {};
    const BufferRange params{m_params->handle(), 0, n * 4};
    const BufferRange grads = arenaRange(Arena::Gradients);
    auto slot = [&](size_t k) { return BufferRange{m_state->handle(), k * n * 4, n * 4}; };
    const BufferRange header = stepHeader();
    if (o.name == "sgd") {
        ops::SgdSettings s{.momentum = float(o.momentum),
                           .weightDecay = float(o.weightDecay),
                           .nesterov = o.nesterov};
        return ops::recordSgdUpdate(rec, s, params, grads,
                                    o.momentum > 0 ? slot(0) : BufferRange{}, header);
    }
    if (o.name == "adam" || o.name == "adamw") {
        ops::AdamSettings s{.beta1 = float(o.beta1),
                            .beta2 = float(o.beta2),
                            .eps = float(o.eps),
                            .weightDecay = float(o.weightDecay),
                            .decoupled = o.name == "adamw"};
        return ops::recordAdamUpdate(rec, s, params, grads, slot(0), slot(1), header);
    }
    if (o.name == "rmsprop") {
        ops::RmspropSettings s{.alpha = float(o.alpha),
                               .eps = float(o.eps),
                               .weightDecay = float(o.weightDecay),
                               .momentum = float(o.momentum)};
        return ops::recordRmspropUpdate(rec, s, params, grads, slot(0),
                                        o.momentum > 0 ? slot(1) : BufferRange{}, BufferRange{},
                                        header);
    }
    return fail("the optimizer '" + o.name + "' has no Vulkan kernel; use --device cpu");
}

Result<void> VulkanBackend::setInput(const std::string& field, std::span<const float> values,
                                     int64_t n) {
    if (!m_program) return fail("the backend has no program; call prepare first");
    auto targets = inputTensorsFor(*m_program, field, values.size(), n);
    if (!targets) return targets.error();
    STRATA_TRY(drain());
    for (TensorId t : *targets) {
        STRATA_TRY(m_staging->upload(rangeOf(t, n), values.data(), values.size() * 4));
        m_inputCopies += int64_t((values.size() * 4 + kStagingBytes - 1) / kStagingBytes);
    }
    m_n = n;
    return {};
}

Result<void> VulkanBackend::upload(TensorId id, std::span<const float> values, int64_t n) {
    const ProgramTensor& t = m_program->tensor(id);
    if (int64_t(values.size()) != t.numelAt(n)) {
        return fail("tensor '" + t.name + "' holds " + std::to_string(t.numelAt(n)) +
                    " values, not " + std::to_string(values.size()));
    }
    STRATA_TRY(drain());
    return m_staging->upload(rangeOf(id, n), values.data(), values.size() * 4);
}

Result<std::vector<float>> VulkanBackend::download(TensorId id, int64_t n) {
    STRATA_TRY(drain());
    const BufferRange r = rangeOf(id, n);
    std::vector<float> out(r.floats());
    STRATA_TRY(m_staging->download(r, out.data(), r.size));
    return out;
}

Result<void> VulkanBackend::uploadParameters(std::span<const float> arena) {
    if (int64_t(arena.size()) != m_program->parameterFloats) {
        return fail("the parameter arena holds " + std::to_string(m_program->parameterFloats) +
                    " values, not " + std::to_string(arena.size()));
    }
    if (arena.empty()) return {};
    STRATA_TRY(drain());
    STRATA_TRY(m_staging->upload(arenaRange(Arena::Parameters), arena.data(), arena.size() * 4));
    m_hostParameters.assign(arena.begin(), arena.end());
    return {};
}

Result<std::vector<float>> VulkanBackend::downloadParameters() {
    const BufferRange r = arenaRange(Arena::Parameters);
    std::vector<float> out(r.floats());
    if (out.empty()) return out;
    // A device that fails here (lost, out of memory) still leaves the weights of the last step
    // that completed: the host copy kept as each step finished.
    if (!drain() || !m_staging->download(r, out.data(), r.size)) return m_hostParameters;
    return out;
}

Result<void> VulkanBackend::uploadOptimizerState(std::span<const float> arena) {
    const BufferRange r = arenaRange(Arena::OptimizerState);
    if (arena.size() != r.floats()) {
        return fail("the optimizer state holds " + std::to_string(r.floats()) +
                    " values, not " + std::to_string(arena.size()));
    }
    if (arena.empty()) return {};
    STRATA_TRY(drain());
    return m_staging->upload(r, arena.data(), r.size);
}

Result<std::vector<float>> VulkanBackend::downloadOptimizerState() {
    const BufferRange r = arenaRange(Arena::OptimizerState);
    std::vector<float> out(r.floats());
    STRATA_TRY(drain());
    if (!out.empty()) STRATA_TRY(m_staging->download(r, out.data(), r.size));
    return out;
}

Result<void> VulkanBackend::runForward(const StepValues& values, Mode mode, size_t begin,
                                       size_t end) {
    if (!m_program) return fail("the backend has no program; call prepare first");
    end = std::min(end, m_program->forward.size());
    if (begin >= end) return {};
    const int64_t n = batchOf(values);
    STRATA_TRY(drain());
    m_slot = 0;
    writeStepValues(values);
    const Key key{Phase::Forward, mode == Mode::Train, n, begin, end, 0};
    return replay(key, [&](Recorder& rec) { return recordForward(rec, mode, n, begin, end); });
}

Result<void> VulkanBackend::runBackward(const StepValues& values, size_t begin, size_t end) {
    if (!m_program) return fail("the backend has no program; call prepare first");
    end = std::min(end, m_program->backward.size());
    if (begin >= end && begin > 0) return {};
    const int64_t n = batchOf(values);
    STRATA_TRY(drain());
    m_slot = 0;
    writeStepValues(values);
    const Key key{Phase::Backward, true, n, begin, end, 0};
    return replay(key, [&](Recorder& rec) { return recordBackward(rec, n, begin, end); });
}

Result<float> VulkanBackend::gradientNorm(float clipTo) {
    if (!m_program) return fail("the backend has no program; call prepare first");
    uint32_t clipBits = 0;
    std::memcpy(&clipBits, &clipTo, 4);
    STRATA_TRY(drain());
    m_slot = 0;
    const Key key{Phase::Norm, true, 0, 0, 0, clipBits};
    STRATA_TRY(replay(key, [&](Recorder& rec) -> Result<void> {
        STRATA_TRY(recordNorm(rec));
        return clipTo > 0 ? recordClip(rec, clipTo) : Result<void>{};
    }));
    return std::sqrt(stepResults(0).normSquared);
}

Result<void> VulkanBackend::optimizerStep(const StepValues& values) {
    if (!m_program) return fail("the backend has no program; call prepare first");
    STRATA_TRY(drain());
    m_slot = 0;
    writeStepValues(values);
    const Key key{Phase::Optimizer, true, 0, 0, 0, 0};
    return replay(key, [&](Recorder& rec) { return recordOptimizer(rec); });
}

Result<float> VulkanBackend::loss() {
    if (!m_program || !m_program->loss.valid()) return fail("the program has no loss");
    float value = 0.0f;
    STRATA_TRY(drain());
    STRATA_TRY(m_staging->download(rangeOf(m_program->loss, 1), &value, 4));
    return value;
}

Result<StepResult> VulkanBackend::trainStep(const StepValues& values) {
    STRATA_TRY(drain());  // earlier queued results stay for finishedSteps
    STRATA_TRY(queueStep(values));
    STRATA_TRY(drain());
    const StepResult r = m_retired.back();
    m_retired.pop_back();
    return r;
}

Result<void> VulkanBackend::queueStep(const StepValues& values) {
    if (!m_program) return fail("the backend has no program; call prepare first");
    if (!m_program->loss.valid()) return fail("the program has no loss to train");
    const int64_t n = batchOf(values);
    m_slot = size_t(m_queued % kSlots);
    STRATA_TRY(makeRoom(m_slot));
    // Nothing runs behind a bad step any more: the next one starts afresh.
    if (m_inFlight.empty()) {
        std::memset(static_cast<uint8_t*>(m_step->mapped()) + haltFlag().offset, 0, 4);
    }
    writeStepValues(values);
    uint32_t clipBits = 0;
    std::memcpy(&clipBits, &values.clipNorm, 4);
    // The whole step in one submission: forward, backward, the norm, the guard that keeps the
    // weights when something is not finite, clipping, the update, and the parameters' host copy.
    const Key key{Phase::Step, true, n, m_slot, 0, clipBits};
    STRATA_TRY(replay(
        key,
        [&](Recorder& rec) -> Result<void> {
            STRATA_TRY(recordForward(rec, Mode::Train, n, 0, m_program->forward.size()));
            STRATA_TRY(recordBackward(rec, n, 0, m_program->backward.size()));
            STRATA_TRY(recordNorm(rec));
            STRATA_TRY(mark(rec, "gradient norm"));
            STRATA_TRY(ops::recordStepGuard(rec, rangeOf(m_program->loss, n), stepHeader(),
                                            haltFlag()));
            if (values.clipNorm > 0) STRATA_TRY(recordClip(rec, values.clipNorm));
            STRATA_TRY(mark(rec, "step guard and clipping"));
            STRATA_TRY(recordAccuracy(rec, n));
            STRATA_TRY(mark(rec, "accuracy"));
            STRATA_TRY(recordOptimizer(rec));
            STRATA_TRY(mark(rec, "optimizer"));
            if (m_program->parameterFloats == 0) return {};
            STRATA_TRY(rec.copy(arenaRange(Arena::Parameters), m_mirror[m_slot]->range(),
                                "the parameters' host copy"));
            return mark(rec, "host copy of the parameters");
        },
        false));
    Recorder* rec = m_recorded.at(key).get();
    m_stepCommands = int64_t(rec->commandCount()) + m_inputCopies;
    m_inputCopies = 0;
    m_inFlight.push_back({m_slot, rec});
    ++m_queued;
    return {};
}

Result<std::vector<StepResult>> VulkanBackend::finishedSteps(bool all) {
    if (all) STRATA_TRY(drain());
    while (!m_inFlight.empty()) {
        auto done = m_inFlight.front().rec->poll();
        if (!done) return done.error();
        if (!*done) break;
        STRATA_TRY(retireOldest());
    }
    return std::exchange(m_retired, {});
}

Result<void> VulkanBackend::retireOldest() {
    const InFlight f = m_inFlight.front();
    m_inFlight.pop_front();
    STRATA_TRY(f.rec->wait());
    const shader::StepValues& out = stepResults(f.slot);
    StepResult r{.loss = out.loss,
                 .gradNorm = std::sqrt(out.normSquared),
                 .applied = out.skip == 0};
    if (classifies()) {
        r.correct = int64_t(out.correct);
        r.counted = int64_t(out.counted);
    }
    m_retired.push_back(r);
    if (!m_hostParameters.empty()) {
        std::memcpy(m_hostParameters.data(), m_mirror[f.slot]->mapped(),
                    m_hostParameters.size() * 4);
    }
    return {};
}

Result<void> VulkanBackend::makeRoom(size_t slot) {
    while (std::any_of(m_inFlight.begin(), m_inFlight.end(),
                       [&](const InFlight& f) { return f.slot == slot; })) {
        STRATA_TRY(retireOldest());
    }
    return {};
}

Result<void> VulkanBackend::drain() {
    while (!m_inFlight.empty()) STRATA_TRY(retireOldest());
    for (auto& [set, rs] : m_resident) {
        for (Recorder*& gather : rs.gathers) {
            if (gather) STRATA_TRY(gather->wait());
            gather = nullptr;
        }
    }
    return {};
}

Result<bool> VulkanBackend::makeResident(int set, const std::string& field,
                                         std::span<const float> rows, int64_t count) {
    if (!m_program) return fail("the backend has no program; call prepare first");
    const InputBinding* b = m_program->input(field);
    if (!b) return fail("no input node takes the field '" + field + "'");
    int64_t rowFloats = 1;
    for (int64_t d : b->sampleShape) rowFloats *= d;
    if (count < 1 || int64_t(rows.size()) != count * rowFloats) {
        return fail("field '" + field + "' gives " + std::to_string(rows.size()) + " values for " +
                    std::to_string(count) + " rows of " + std::to_string(rowFloats));
    }
    // Row numbers travel as floats (exact below 2^24); keep a quarter of the device for the model.
    const uint64_t bytes = rows.size() * 4;
    if (count >= (int64_t(1) << 24) || bytes > m_device->info().deviceLocalBytes() / 4) {
        return false;
    }
    STRATA_TRY(drain());
    ResidentSet& rs = m_resident[set];
    std::erase_if(rs.fields, [&](const ResidentField& f) { return f.field == field; });
    std::erase_if(m_recorded, [&](const auto& kv) {
        return std::get<0>(kv.first) == Phase::Gather && std::get<3>(kv.first) == size_t(set);
    });
    auto buffer = DeviceBuffer::create(*m_device, bytes, false, "the resident '" + field + "' data");
    if (!buffer) return false;  // it does not fit: the batches come from the host instead
    STRATA_TRY(m_staging->upload((*buffer)->range(), rows.data(), bytes));
    rs.fields.push_back({field, rowFloats, std::move(*buffer)});
    if (!rs.indices) {
        auto idx = DeviceBuffer::create(*m_device, kSlots * uint64_t(m_program->batch) * 4, true,
                                        "the batch's row numbers");
        if (!idx) return idx.error();
        rs.indices = std::move(*idx);
    }
    return true;
}

Result<void> VulkanBackend::selectRows(int set, std::span<const int64_t> indices) {
    auto it = m_resident.find(set);
    if (it == m_resident.end()) return fail("no resident data set " + std::to_string(set));
    const int64_t n = int64_t(indices.size());
    STRATA_TRY(checkBatch(*m_program, n));
    ResidentSet& rs = it->second;
    // The rows go to the slot of the step they are for (the next one queued), once the step
    // there before and the gather that read them have finished.
    const size_t slot = size_t(m_queued % kSlots);
    STRATA_TRY(makeRoom(slot));
    if (rs.gathers[slot]) STRATA_TRY(rs.gathers[slot]->wait());
    const uint64_t first = slot * uint64_t(m_program->batch);
    auto* rowNumbers = static_cast<float*>(rs.indices->mapped()) + first;
    for (int64_t i = 0; i < n; ++i) rowNumbers[i] = float(indices[size_t(i)]);
    const Key key{Phase::Gather, false, n, size_t(set), slot, 0};
    STRATA_TRY(replay(key, [&](Recorder& rec) -> Result<void> {
        const BufferRange rows{rs.indices->handle(), first * 4, uint64_t(n) * 4};
        for (const ResidentField& f : rs.fields) {
            for (const InputBinding& b : m_program->inputs) {
                if (b.field != f.field) continue;
                STRATA_TRY(ops::recordGatherRows(rec, f.rows->range(), uint64_t(f.rowFloats), rows,
                                                 rangeOf(b.tensor, n)));
            }
        }
        return mark(rec, "gather the batch's rows");
    }, false));
    rs.gathers[slot] = m_recorded.at(key).get();
    m_inputCopies += int64_t(m_recorded.at(key)->commandCount());
    m_n = n;
    return {};
}

namespace {

Result<std::unique_ptr<Backend>> makeVulkanBackend(const std::string& name) {
    auto choice = parseDeviceChoice(name);
    if (!choice) return choice.error();
    auto instance = Instance::create();
    if (!instance) return instance.error();
    auto resolved = resolveDeviceChoice(*choice, (*instance)->devices());
    if (!resolved) return resolved.error();
    if (resolved->cpu) return fail("no Vulkan device is used: " + resolved->reason);
    auto backend = VulkanBackend::create(*instance, resolved->vulkanIndex);
    if (!backend) return backend.error();
    return std::unique_ptr<Backend>(std::move(*backend));
}

}  // namespace

void registerVulkanBackend() {
    registerBackendFactory(makeVulkanBackend);
}

}  // namespace strata::gpu

// strata bench --workload W1|W2|W3|W4|all and strata bench --profile W: the training workloads of
// bench/workloads.md, built from bench/W*.strata.json and timed step by step on one backend,
// in the line format bench/torch_reference.py prints for PyTorch.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "app/commands.h"
#include "core/data/open_dataset.h"
#include "core/engine/backend.h"
#include "core/engine/cpu_backend.h"
#include "core/engine/program.h"
#include "core/io/document.h"

namespace strata::app {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct WorkloadName {
    const char* id;
    const char* name;
};
constexpr WorkloadName kWorkloads[] = {
    {"W1", "mlp"}, {"W2", "lenet5"}, {"W3", "char_lstm"}, {"W4", "transformer_lm"}};
constexpr uint64_t kSeed = 1234;  // data, weights and step seeds (bench/workloads.md)

struct Options {
    std::string device = "auto";
    int steps = 50;
    int warmup = 5;
    int threads = 2;
};

int wholeNumber(const std::string& text, const std::string& flag, int lo, int hi) {
    try {
        size_t used = 0;
        const long v = std::stol(text, &used);
        if (used == text.size() && v >= lo && v <= hi) return int(v);
    } catch (const std::exception&) {
    }
    throw std::invalid_argument("option " + flag + " takes a whole number from " +
                                std::to_string(lo) + " to " + std::to_string(hi) + ", not '" +
                                text + "'");
}

const WorkloadName* findWorkload(const std::string& id) {
    for (const auto& w : kWorkloads) {
        if (id == w.id) return &w;
    }
    return nullptr;
}

// bench/ beside the working folder, else the source tree the executable was built in (walking
// up from it), else $STRATA_BENCH_DIR.
Result<fs::path> benchFolder() {
    std::vector<fs::path> tried;
    if (const char* env = std::getenv("STRATA_BENCH_DIR"); env && *env) tried.push_back(env);
    tried.push_back(fs::current_path() / "bench");
    std::error_code ec;
    for (fs::path p = fs::read_symlink("/proc/self/exe", ec).parent_path();
         !ec && !p.empty() && p != p.root_path(); p = p.parent_path()) {
        tried.push_back(p / "bench");
    }
    for (const auto& p : tried) {
        if (fs::exists(p / "W1.strata.json", ec)) return p;
    }
    return fail("the workload documents (bench/W1.strata.json ...) are not in ./bench nor beside "
                "the strata executable; run from the source folder or set STRATA_BENCH_DIR");
}

// Resident set and its high-water mark, in bytes (Linux /proc).
int64_t residentBytes() {
    std::ifstream in("/proc/self/statm");
    int64_t size = 0, resident = 0;
    in >> size >> resident;
    return resident * sysconf(_SC_PAGESIZE);
}

int64_t peakResidentBytes() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
    }
    return -1;
}

bool resetPeakResident() {
    std::ofstream out("/proc/self/clear_refs");
    out << "5";
    out.flush();
    return bool(out);
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

constexpr double kMiB = 1024.0 * 1024.0;

// What training needs at least (bench/workloads.md, "Memory"): parameters, gradients,
// optimizer state, and the activations backward reads (every input, output and aux tensor a
// backward op of the Program takes), in bytes.
int64_t neededBytes(const Program& p) {
    int64_t floats = p.parameterFloats + p.trainableFloats +
                     int64_t(p.optimizerState.size()) * p.trainableFloats;
    std::set<int64_t> kept;
    for (const ProgramOp& op : p.backward) {
        for (const auto* list : {&op.inputs, &op.outputs, &op.aux}) {
            for (TensorId t : *list) {
                if (!t.valid()) continue;
                const TensorKind k = p.tensor(t).kind;
                if (k == TensorKind::Input || k == TensorKind::Activation ||
                    k == TensorKind::Aux) {
                    kept.insert(int64_t(t.value));
                }
            }
        }
    }
    for (int64_t id : kept) floats += p.tensors[size_t(id - 1)].numel;
    return floats * 4;
}

// The CPU backend's arenas (it does not report deviceBytes itself).
int64_t arenaBytes(const Program& p) {
    return 4 * (p.parameterFloats + p.trainableFloats +
                int64_t(p.optimizerState.size()) * p.trainableFloats + p.activationFloats);
}

// One workload, set up and ready to step.
struct Job {
    const WorkloadName* w = nullptr;
    Document doc;
    Program program;
    std::unique_ptr<Backend> backend;
    // The resident dataset: per program input, every sample's values (integers as floats).
    struct Field {
        std::string name;
        int64_t sampleSize = 0;
        std::vector<float> values;
    };
    std::vector<Field> data;
    std::vector<float> initial;  // the parameter arena's first values
    int64_t batches = 0;  // whole batches in the dataset; step i uses batch i mod batches
    bool resident = false;  // the backend holds the data; a step selects its rows by index
    int64_t step = 0;
    StepResult last;
    int64_t baseRss = 0;
    bool peakResettable = false;
};

Result<void> makeJob(Job& job, const WorkloadName& w, const Options& o) {
    job.w = &w;
    auto folder = benchFolder();
    if (!folder) return folder.error();
    const fs::path path = *folder / (std::string(w.id) + ".strata.json");
    auto doc = readDocument(path);
    if (!doc) return fail(path.string() + ": " + doc.message());
    job.doc = std::move(*doc);
    if (!job.doc.dataset) return fail(path.string() + " binds no dataset");
    const int64_t batch = job.doc.training.batchSize;

    // The data first, whole and resident, before the model exists (memory is measured after).
    auto dataset = openDatasetSource(job.doc.dataset->source, job.doc.dataset->format,
                                     job.doc.dataset->options, *folder);
    if (!dataset) return fail(path.string() + ": " + dataset.message());
    const int64_t count = (*dataset)->size();
    job.batches = count / batch;
    if (job.batches < 1) {
        return fail(path.string() + ": the dataset holds " + std::to_string(count) +
                    " samples, fewer than one batch of " + std::to_string(batch));
    }
    std::vector<int64_t> all(size_t(job.batches * batch));
    std::iota(all.begin(), all.end(), 0);

    CompileOptions co;
    co.training = true;
    co.optimizer = job.doc.training.optimizer;
    auto program = compile(job.doc.graph, batch, co);
    if (!program) return fail(path.string() + ": " + program.message());
    for (const InputBinding& in : program->inputs) {
        auto info = (*dataset)->field(in.field);
        const int64_t size = program->tensor(in.tensor).numel / batch;
        if (!info || info->sampleSize() != size) {
            return fail(path.string() + ": the dataset has no field '" + in.field + "' of " +
                        std::to_string(size) + " values per sample");
        }
        Job::Field f{in.field, size, std::vector<float>(all.size() * size_t(size))};
        (*dataset)->gather(all, in.field, f.values.data());
        job.data.push_back(std::move(f));
    }
    dataset->reset();  // the generator's copy; the resident one is job.data

    // The initial weights' values too, held like the data for the whole run: they are an input
    // of training (PyTorch initialises its parameters in place and has no such copy); made after
    // the baseline, the host copy stayed in the count as allocator slack once uploaded (1 MiB of
    // W1's 6), and freed after it, the steps could reuse its pages unseen.
    job.initial = initialParameters(*program, kSeed);

    // The model from here: backend, arenas, weights.
    job.baseRss = residentBytes();
    job.peakResettable = resetPeakResident();
    job.program = std::move(*program);
    setCpuThreads(o.threads);
    auto backend = createBackend(o.device);
    if (!backend) return backend.error();
    job.backend = std::move(*backend);
    if (auto r = job.backend->prepare(job.program); !r) return r.error();
    if (auto r = job.backend->uploadParameters(job.initial); !r) {
        return r.error();
    }
    // A GPU backend keeps the dataset in device memory (outside its deviceBytes); the CPU's
    // batches are copied from the host arrays into its inputs.
    job.resident = job.backend->keepsDataResident();
    for (const auto& f : job.data) {
        if (!job.resident) break;
        auto made = job.backend->makeResident(0, f.name, f.values, job.batches * batch);
        if (!made) return made.error();
        job.resident = *made;
    }
    return {};
}

Result<void> collect(Job& job, bool all);

// One training step: this step's batch into the inputs, then forward, backward and update.
Result<void> step(Job& job) {
    const int64_t b = job.program.batch;
    const int64_t k = job.step % job.batches;
    if (job.resident) {
        std::vector<int64_t> rows(size_t(b), 0);
        std::iota(rows.begin(), rows.end(), k * b);
        if (auto r = job.backend->selectRows(0, rows); !r) return r.error();
    }
    for (const auto& f : job.data) {
        if (job.resident) break;
        const std::span<const float> batch(f.values.data() + k * b * f.sampleSize,
                                           size_t(b * f.sampleSize));
        if (auto r = job.backend->setInput(f.name, batch, b); !r) return r.error();
    }
    ++job.step;
    StepValues v;
    v.learningRate = float(job.doc.training.optimizer.learningRate);
    v.step = job.step;
    v.seed = kSeed * 0x9E3779B97F4A7C15ull + uint64_t(job.step);
    v.batch = b;
    // Queued like the Trainer's steps: a backend that pipelines keeps the device busy while
    // this thread prepares the next step, so a step's time is the time between two.
    if (auto r = job.backend->queueStep(v); !r) return r.error();
    return collect(job, false);
}

// The results of the finished steps (all of them when `all`), each checked.
Result<void> collect(Job& job, bool all) {
    auto done = job.backend->finishedSteps(all);
    if (!done) return done.error();
    for (const StepResult& r : *done) {
        job.last = r;
        if (!r.applied) {
            return fail("a step gave a loss of " + std::to_string(r.loss) +
                        " and a gradient norm of " + std::to_string(r.gradNorm) +
                        "; nothing was updated");
        }
    }
    return {};
}

Result<std::vector<double>> timedSteps(Job& job, const Options& o) {
    for (int i = 0; i < o.warmup; ++i) {
        if (auto r = step(job); !r) return r.error();
    }
    std::vector<double> seconds;
    for (int i = 0; i < o.steps; ++i) {
        const auto start = Clock::now();
        if (auto r = step(job); !r) return r.error();
        seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    }
    if (auto r = collect(job, true); !r) return r.error();
    return seconds;
}

int runWorkload(const WorkloadName& w, const Options& o) {
    Job job;
    auto fault = [&](const std::string& message) {
        std::cerr << "strata: " << w.id << " " << w.name << ": " << message << "\n";
        return kInvalid;
    };
    if (auto r = makeJob(job, w, o); !r) return fault(r.message());
    auto seconds = timedSteps(job, o);
    if (!seconds) return fault(seconds.message());
    const int64_t peakRss = peakResidentBytes();
    const int64_t held = job.backend->deviceBytes();

    // Dispatches, counted in one more step: the backend's own count, else (CPU) the kernels
    // its timers saw.
    job.backend->resetTimings();
    if (auto r = step(job); !r) return fault(r.message());
    if (auto r = collect(job, true); !r) return fault(r.message());
    int64_t dispatches = job.backend->dispatchesPerStep();
    if (dispatches < 0) {
        int64_t calls = 0;
        for (const auto& t : job.backend->timings()) calls += t.calls;
        if (calls > 0) dispatches = calls;
    }

    // GPU: the bytes the backend allocated; CPU: the growth of the resident set.
    const bool cpu = held < 0;
    double peakMb = 0;
    std::string how;
    if (cpu) {
        peakMb = double(std::max<int64_t>(0, peakRss - job.baseRss)) / kMiB;
        how = job.peakResettable
                  ? "peak RSS (VmHWM after resetting it through /proc/self/clear_refs) minus RSS "
                    "before the model"
                  : "VmHWM minus RSS before the model (peak not resettable here: upper bound)";
    } else {
        peakMb = double(held) / kMiB;
        how = "bytes of the backend's device-local buffers (arenas, scratch; the host-visible "
              "staging, step values and parameter copies are host memory)";
    }
    const double need = double(neededBytes(job.program)) / kMiB;
    const double med = median(*seconds);
    const double fastest = *std::min_element(seconds->begin(), seconds->end());
    const double arena = double(held >= 0 ? held : arenaBytes(job.program)) / kMiB;

    std::fprintf(stderr,
                 "%s %s: %s, data %s, batch %lld, median step %.3f ms over %d steps after %d "
                 "warm-up, min %.3f ms, last loss %.4f, threads %d; arenas %.2f MiB, needed "
                 "%.2f MiB "
                 "(parameters, gradients, optimizer state, activations backward reads); "
                 "memory: %s\n",
                 w.id, w.name, job.backend->deviceName().c_str(),
                 job.resident ? "resident on the device" : "copied from host memory each step",
                 static_cast<long long>(job.program.batch), med * 1e3, o.steps, o.warmup,
                 fastest * 1e3, job.last.loss, o.threads, arena, need, how.c_str());
    std::string count = dispatches >= 0 ? std::to_string(dispatches) : "n/a";
    std::printf("%s %s samples_per_s=%.1f peak_device_mb=%.1f dispatches_per_step=%s "
                "memory_need_mb=%.2f memory_ratio=%.2f\n",
                w.id, w.name, double(job.program.batch) / med, peakMb, count.c_str(), need,
                need > 0 ? peakMb / need : 0.0);
    std::fflush(stdout);
    return kOk;
}

int runProfile(const WorkloadName& w, const Options& o) {
    Job job;
    auto fault = [&](const std::string& message) {
        std::cerr << "strata: " << w.id << " " << w.name << ": " << message << "\n";
        return kInvalid;
    };
    if (auto r = makeJob(job, w, o); !r) return fault(r.message());
    job.backend->setProfiling(true);
    for (int i = 0; i < o.warmup; ++i) {
        if (auto r = step(job); !r) return fault(r.message());
    }
    job.backend->resetTimings();
    double total = 0;
    for (int i = 0; i < o.steps; ++i) {
        const auto start = Clock::now();
        if (auto r = step(job); !r) return fault(r.message());
        total += std::chrono::duration<double>(Clock::now() - start).count();
    }
    std::vector<OpTiming> ops = job.backend->timings();
    if (ops.empty()) return fault(job.backend->deviceName() + " does not time its ops");
    std::sort(ops.begin(), ops.end(),
              [](const OpTiming& a, const OpTiming& b) { return a.seconds > b.seconds; });
    const double perStep = total / o.steps;
    double timed = 0;
    for (const auto& t : ops) timed += t.seconds / o.steps;

    std::printf("%s %s profile on %s: mean of %d steps after %d warm-up, %.3f ms per step\n",
                w.id, w.name, job.backend->deviceName().c_str(), o.steps, o.warmup,
                perStep * 1e3);
    std::printf("%10s  %6s  %s\n", "ms/step", "share", "op");
    for (const auto& t : ops) {
        const double s = t.seconds / o.steps;
        std::printf("%10.3f  %5.1f%%  %s\n", s * 1e3, 100.0 * s / perStep, t.name.c_str());
    }
    // Host work around the timed ops: input uploads, the CPU's gradient norm, submission and
    // waiting on a GPU. Negative when the GPU's clock and the host's disagree slightly.
    const double rest = perStep - timed;
    std::printf("%10.3f  %5.1f%%  %s\n", rest * 1e3, 100.0 * rest / perStep,
                "(outside the timed ops: input upload, submission, host work)");
    std::fflush(stdout);
    return kOk;
}

// `--workload all`: each workload in a child process, so that one's memory (the resident set
// only grows) cannot hide the next one's (the PyTorch side does the same).
int runAll(const Options& o) {
    int status = kOk;
    for (const auto& w : kWorkloads) {
        std::fflush(stdout);
        std::fflush(stderr);
        const std::vector<std::string> args = {
            "strata",     "bench",   "--workload", w.id,
            "--device",   o.device,  "--steps",    std::to_string(o.steps),
            "--warmup",   std::to_string(o.warmup), "--threads", std::to_string(o.threads)};
        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        const pid_t child = fork();
        if (child == 0) {
            execv("/proc/self/exe", argv.data());
            std::perror("strata: cannot start a child process");
            _exit(kInvalid);
        }
        int wstatus = 0;
        if (child < 0 || waitpid(child, &wstatus, 0) < 0 || !WIFEXITED(wstatus) ||
            WEXITSTATUS(wstatus) != 0) {
            std::cerr << "strata: " << w.id << " " << w.name << " failed\n";
            status = kInvalid;
        }
    }
    return status;
}

}  // namespace

bool isWorkloadBench(const Args& args) {
    for (const auto& a : args) {
        if (a == "--workload" || a == "--profile" || a.rfind("--workload=", 0) == 0 ||
            a.rfind("--profile=", 0) == 0) {
            return true;
        }
    }
    return false;
}

int cmdBenchWorkloads(const Args& argsIn) {
    Args args = argsIn;
    const std::string workload = takeOption(args, "--workload");
    const std::string profile = takeOption(args, "--profile");
    Options o;
    o.device = takeOption(args, "--device", "auto");
    const std::string steps = takeOption(args, "--steps");
    o.warmup = wholeNumber(takeOption(args, "--warmup", "5"), "--warmup", 0, 100000);
    o.threads = wholeNumber(takeOption(args, "--threads", "2"), "--threads", 1, 1024);
    if (!args.empty()) return usageError("bench takes no argument '" + args[0] + "'");
    if (!workload.empty() && !profile.empty()) {
        return usageError("bench takes either --workload or --profile, not both");
    }
    // The profile averages a few steps: one step on a shared machine is mostly noise.
    o.steps = wholeNumber(steps.empty() ? (profile.empty() ? "50" : "10") : steps, "--steps", 1,
                          1000000);
    const std::string which = profile.empty() ? workload : profile;
    const WorkloadName* w = findWorkload(which);
    if (!w && !(which == "all" && profile.empty())) {
        return usageError("there is no workload '" + which + "'; the workloads are W1, W2, W3 "
                          "and W4" + std::string(profile.empty() ? " (or all)" : "") +
                          " (bench/workloads.md)");
    }
    const bool knownDevice = o.device == "cpu" || o.device == "auto" || o.device == "vulkan" ||
                             (o.device.rfind("vulkan:", 0) == 0 && o.device.size() > 7 &&
                              o.device.find_first_not_of("0123456789", 7) == std::string::npos);
    if (!knownDevice) {
        return usageError("there is no device '" + o.device +
                          "'; use cpu, vulkan, vulkan:N or auto");
    }
    if (!profile.empty()) return runProfile(*w, o);
    if (!w) return runAll(o);
    return runWorkload(*w, o);
}

}  // namespace strata::app

#include "core/engine/cpu_math.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace strata::cpu {

namespace {

// ---- the pool ----
//
// One job at a time: the caller publishes (fn, context, count, parts) and a ticket, and every
// thread, the caller included, claims parts by advancing the ticket until none is left; the
// caller then waits for the parts others claimed. A worker descheduled by a busy machine simply
// claims nothing, so the caller never waits for a thread that has not started.
//
// The ticket packs (generation 32 bits, parts 16 bits, next part 16 bits), so a worker that
// wakes late cannot claim a part of a newer job with the older job's fields: a successful claim
// happens-after the job's fields were written, and the job cannot finish before that part does.
class Pool {
public:
    explicit Pool(int threads) : m_threads(std::max(1, threads)) {
        for (int i = 1; i < m_threads; ++i) m_workers.emplace_back([this, i] { workerLoop(i); });
    }
    ~Pool() {
        m_stop.store(true);
        m_ticket.fetch_add(uint64_t{1} << 32);
        m_ticket.notify_all();
        for (auto& t : m_workers) t.join();
    }
    int threads() const { return m_threads; }

    void run(int64_t count, int parts, RangeFn fn, void* context) {
        std::lock_guard lock(m_submit);
        m_fn = fn;
        m_context = context;
        m_count = count;
        m_pending.store(parts, std::memory_order_relaxed);
        const uint64_t gen = (m_ticket.load(std::memory_order_relaxed) >> 32) + 1;
        m_ticket.store((gen << 32) | (static_cast<uint64_t>(parts) << 16),
                       std::memory_order_release);
        m_ticket.notify_all();
        runParts(0);
        // Spin briefly (the other part is usually about as long as ours), then sleep.
        int p;
        for (int spin = 0; (p = m_pending.load(std::memory_order_acquire)) != 0; ++spin) {
            if (spin < 4000) {
                pause();
            } else {
                m_pending.wait(p, std::memory_order_acquire);
            }
        }
    }

private:
    static void pause() {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }

    // Claims and runs parts of the current job until none is left.
    void runParts(int self) {
        uint64_t t = m_ticket.load(std::memory_order_acquire);
        for (;;) {
            const uint64_t parts = (t >> 16) & 0xFFFF, next = t & 0xFFFF;
            if (next >= parts) return;
            if (!m_ticket.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel)) continue;
            const int64_t begin = m_count * static_cast<int64_t>(next) / static_cast<int64_t>(parts);
            const int64_t end =
                m_count * static_cast<int64_t>(next + 1) / static_cast<int64_t>(parts);
            t_index = self;
            t_inside = true;
            m_fn(m_context, begin, end);
            t_inside = false;
            t_index = 0;
            if (m_pending.fetch_sub(1, std::memory_order_acq_rel) == 1) m_pending.notify_all();
            t = m_ticket.load(std::memory_order_acquire);
        }
    }

    void workerLoop(int self) {
        uint64_t seen = 0;
        while (!m_stop.load()) {
            runParts(self);
            seen = m_ticket.load(std::memory_order_acquire);
            if ((seen & 0xFFFF) < ((seen >> 16) & 0xFFFF)) continue;  // parts appeared meanwhile
            // Steps launch jobs back to back: spin about 20 us before sleeping in the kernel.
            bool changed = false;
            for (int spin = 0; spin < 2000; ++spin) {
                if (m_ticket.load(std::memory_order_acquire) != seen) {
                    changed = true;
                    break;
                }
                pause();
            }
            if (!changed) m_ticket.wait(seen, std::memory_order_acquire);
        }
    }

public:
    static thread_local int t_index;
    static thread_local bool t_inside;

private:
    const int m_threads;
    std::vector<std::thread> m_workers;
    std::mutex m_submit;
    std::atomic<uint64_t> m_ticket{0};
    std::atomic<int> m_pending{0};
    std::atomic<bool> m_stop{false};
    RangeFn m_fn = nullptr;
    void* m_context = nullptr;
    int64_t m_count = 0;
};

thread_local int Pool::t_index = 0;
thread_local bool Pool::t_inside = false;

std::mutex g_poolMutex;
std::unique_ptr<Pool> g_pool;
int g_requested = 0;

Pool& pool() {
    std::lock_guard lock(g_poolMutex);
    if (!g_pool) {
        const int n = g_requested > 0 ? g_requested
                                      : static_cast<int>(std::thread::hardware_concurrency());
        openblas_set_num_threads(1);
        g_pool = std::make_unique<Pool>(std::clamp(n, 1, 256));
    }
    return *g_pool;
}

}  // namespace

void gemmHere(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
              const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
              int64_t ldc) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                transB ? CblasTrans : CblasNoTrans, static_cast<int>(M), static_cast<int>(N),
                static_cast<int>(K), alpha, A, static_cast<int>(lda), B, static_cast<int>(ldb),
                beta, C, static_cast<int>(ldc));
}

void setThreads(int threads) {
    std::lock_guard lock(g_poolMutex);
    if (g_pool && (threads <= 0 || g_pool->threads() == threads)) return;
    g_requested = threads;
    g_pool.reset();
}

int threads() { return pool().threads(); }

int threadIndex() { return Pool::t_index; }

void parallelForRaw(int64_t count, int64_t grain, RangeFn fn, void* context) {
    if (count <= 0) return;
    if (Pool::t_inside) {
        fn(context, 0, count);
        return;
    }
    Pool& p = pool();
    const int64_t parts = std::min<int64_t>(p.threads(), count / std::max<int64_t>(1, grain));
    if (parts <= 1) {
        fn(context, 0, count);
        return;
    }
    p.run(count, static_cast<int>(parts), fn, context);
}

void parallelChunksRaw(int64_t count, int64_t chunk, RangeFn fn, void* context) {
    if (count <= 0) return;
    // The pool's ticket counts at most 65535 parts; beyond that the chunks grow.
    chunk = std::max({int64_t{1}, chunk, (count + 0xFFFE) / 0xFFFF});
    const int64_t parts = (count + chunk - 1) / chunk;
    if (parts <= 1 || Pool::t_inside) {
        fn(context, 0, count);
        return;
    }
    Pool& p = pool();
    if (p.threads() <= 1) {
        fn(context, 0, count);
        return;
    }
    // The pool cuts count into `parts` even ranges; let it cut whole chunks and map them back.
    struct Chunked {
        RangeFn fn;
        void* context;
        int64_t count, chunk;
    } job{fn, context, count, chunk};
    const auto run = [](void* c, int64_t b0, int64_t b1) {
        const auto& j = *static_cast<const Chunked*>(c);
        j.fn(j.context, b0 * j.chunk, std::min(j.count, b1 * j.chunk));
    };
    p.run(parts, static_cast<int>(parts), run, &job);
}

void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          const float* B, float beta, float* C) {
    if (M == 0 || N == 0) return;
    const int64_t lda = transA ? M : K, ldb = transB ? K : N;
    // Below about a million multiply-adds a split costs more than it saves.
    const bool split = M * N * K >= (int64_t{1} << 20) && !Pool::t_inside && threads() > 1;
    if (!split) {
        gemmHere(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, N);
        return;
    }
    // Split C into blocks of 64 columns (or rows) that the threads claim one by one, so that a
    // thread that loses its core holds back one block, not half the product. Each block packs
    // the other operand again: about 5% more work at 64, measured on the W1 products, 10% at 32.
    // Columns when there are enough of them (they also measured a little faster than rows).
    // Multiples of 16 keep OpenBLAS's micro-tiles whole.
    const bool byColumns = N >= 128 || N >= M;
    const int64_t extent = byColumns ? N : M;
    const int64_t block = extent >= 256 ? 64 : extent >= 128 ? 32 : 16;
    const int64_t blocks = (extent + block - 1) / block;
    if (byColumns) {
        parallelChunks(blocks, 1, [&](int64_t b0, int64_t b1) {
            const int64_t n0 = b0 * block, n1 = std::min(N, b1 * block);
            const float* b = transB ? B + n0 * ldb : B + n0;
            gemmHere(transA, transB, M, n1 - n0, K, alpha, A, lda, b, ldb, beta, C + n0, N);
        });
    } else {
        parallelChunks(blocks, 1, [&](int64_t b0, int64_t b1) {
            const int64_t m0 = b0 * block, m1 = std::min(M, b1 * block);
            const float* a = transA ? A + m0 : A + m0 * lda;
            gemmHere(transA, transB, m1 - m0, N, K, alpha, a, lda, B, ldb, beta, C + m0 * N, N);
        });
    }
}

void gemmBatched(bool transA, bool transB, int64_t batch, int64_t M, int64_t N, int64_t K,
                 float alpha, const float* A, int64_t strideA, const float* B, int64_t strideB,
                 float beta, float* C, int64_t strideC) {
    if (M == 0 || N == 0) return;
    const int64_t lda = transA ? M : K, ldb = transB ? K : N;
    // Enough products per part that a part outweighs waking a worker (~50k multiply-adds).
    const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, M * N * K));
    parallelFor(batch, grain, [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
            gemmHere(transA, transB, M, N, K, alpha, A + b * strideA, lda, B + b * strideB, ldb,
                  beta, C + b * strideC, N);
        }
    });
}

uint32_t hash32(uint64_t seed, uint64_t index) {
    // Two rounds of a PCG output permutation over a 32-bit mix of seed and index; uses only
    // 32-bit integer operations so GLSL can do the same without 64-bit types.
    uint32_t s = static_cast<uint32_t>(seed) ^ (static_cast<uint32_t>(seed >> 32) * 0x9E3779B9u);
    uint32_t v = static_cast<uint32_t>(index) * 747796405u + 2891336453u + s;
    for (int round = 0; round < 2; ++round) {
        uint32_t word = ((v >> ((v >> 28u) + 4u)) ^ v) * 277803737u;
        v = (word >> 22u) ^ word;
        v = v * 747796405u + 2891336453u + s;
    }
    return v;
}

}  // namespace strata::cpu

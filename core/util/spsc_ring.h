#pragma once
// A bounded single-producer single-consumer ring. The Trainer's worker thread pushes per-step
// metrics; the UI timer pops them. Neither side ever blocks or locks: a full ring drops the new
// item (push returns false), because the trainer must never wait on a slow reader.
#include <array>
#include <atomic>
#include <cstddef>
#include <optional>

namespace strata {

template <class T, size_t Capacity = 4096>
class SpscRing {
    static_assert(Capacity >= 2 && (Capacity & (Capacity - 1)) == 0,
                  "capacity must be a power of two so indices wrap with a mask");

public:
    // Producer thread only.
    bool push(const T& item) {
        const size_t head = m_head.load(std::memory_order_relaxed);
        if (head - m_tail.load(std::memory_order_acquire) == Capacity) return false;
        m_items[head & (Capacity - 1)] = item;
        m_head.store(head + 1, std::memory_order_release);
        return true;
    }

    // Consumer thread only.
    std::optional<T> pop() {
        const size_t tail = m_tail.load(std::memory_order_relaxed);
        if (tail == m_head.load(std::memory_order_acquire)) return std::nullopt;
        T item = m_items[tail & (Capacity - 1)];
        m_tail.store(tail + 1, std::memory_order_release);
        return item;
    }

    // Approximate when called from a third thread; exact from either side.
    size_t size() const {
        return m_head.load(std::memory_order_acquire) - m_tail.load(std::memory_order_acquire);
    }
    bool empty() const { return size() == 0; }
    static constexpr size_t capacity() { return Capacity; }

private:
    std::array<T, Capacity> m_items{};
    // On separate cache lines so producer and consumer do not bounce one line between cores.
    alignas(64) std::atomic<size_t> m_head{0};  // next slot to write
    alignas(64) std::atomic<size_t> m_tail{0};  // next slot to read
};

}  // namespace strata

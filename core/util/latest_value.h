#pragma once
// The most recent value of something a worker thread produces now and then (an attention
// snapshot): the writer replaces it, readers copy it when its version changed. Readers that poll
// an unchanged value touch only an atomic, so a 30 Hz UI timer costs nothing between updates.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>

namespace strata {

template <class T>
class LatestValue {
public:
    void set(T value) {
        std::lock_guard lock(m_mutex);
        m_value = std::move(value);
        m_version.fetch_add(1, std::memory_order_release);
    }

    // 0 until the first set; increases by one on every set.
    uint64_t version() const { return m_version.load(std::memory_order_acquire); }

    std::optional<T> get() const {
        std::lock_guard lock(m_mutex);
        return m_value;
    }

    // The value if it changed since `seenVersion` (which is then updated), else nothing.
    std::optional<T> getIfNewer(uint64_t& seenVersion) const {
        if (version() == seenVersion) return std::nullopt;
        std::lock_guard lock(m_mutex);
        seenVersion = m_version.load(std::memory_order_acquire);
        return m_value;
    }

private:
    mutable std::mutex m_mutex;
    std::optional<T> m_value;
    std::atomic<uint64_t> m_version{0};
};

}  // namespace strata

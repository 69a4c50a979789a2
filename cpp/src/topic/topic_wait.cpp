// topic_wait.cpp — blocking until a message may be there: poll, then sleep on the futex.
#include <algorithm>
#include <sched.h>

#include "horus/base/futex.hpp"
#include "horus/topic/topic_ring.hpp"

namespace horus {
namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

}  // namespace

void TopicRing::wait(uint64_t cursor, std::chrono::nanoseconds timeout) {
    const auto start = std::chrono::steady_clock::now();
    const auto room = std::chrono::steady_clock::time_point::max() - start;
    const auto deadline = timeout >= room ? std::chrono::steady_clock::time_point::max() : start + timeout;
    // Spin first: a message that comes within recv_spin() is taken without the
    // futex sleep and wake-up, which cost microseconds per hop when the two
    // processes run on different cores (tens of microseconds on some VMs).
    const auto spin_until = start + std::min(timeout, recv_spin());
    // Every 256 polls it yields, so a publisher sharing our core is not held up.
    for (unsigned n = 1;; ++n) {
        if (header_->write_seq.load(std::memory_order_acquire) > cursor) return;
        if (n % 64 == 0) {
            if (std::chrono::steady_clock::now() >= spin_until) break;
            if (n % 256 == 0) sched_yield();
        }
        cpu_relax();
    }
    for (;;) {
        if (header_->write_seq.load(std::memory_order_seq_cst) > cursor) return;
        const uint32_t w = header_->futex_word.load(std::memory_order_seq_cst);
        header_->waiters.fetch_add(1, std::memory_order_seq_cst);
        if (header_->write_seq.load(std::memory_order_seq_cst) > cursor) {
            header_->waiters.fetch_sub(1, std::memory_order_seq_cst);
            return;
        }
        const auto left = deadline - std::chrono::steady_clock::now();
        if (left.count() > 0) futex_wait(header_->futex_word, w, left);
        header_->waiters.fetch_sub(1, std::memory_order_seq_cst);
        if (std::chrono::steady_clock::now() >= deadline) return;
    }
}

}  // namespace horus

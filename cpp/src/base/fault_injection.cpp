// fault_injection.cpp — see fault_injection.hpp.
#include "horus/base/fault_injection.hpp"

#include <atomic>

namespace horus::fault {
namespace {
std::atomic<int> g_error{0};
std::atomic<int> g_skip{0};
std::atomic<int> g_count{0};
}  // namespace

void inject_shm_failure(int error, int skip, int count) {
    g_error.store(error, std::memory_order_relaxed);
    g_skip.store(skip, std::memory_order_relaxed);
    g_count.store(count, std::memory_order_release);
}

int take_shm_failure() noexcept {
    if (g_count.load(std::memory_order_acquire) <= 0) return 0;
    if (g_skip.fetch_sub(1, std::memory_order_relaxed) > 0) return 0;
    if (g_count.fetch_sub(1, std::memory_order_acq_rel) <= 0) return 0;
    return g_error.load(std::memory_order_relaxed);
}

}  // namespace horus::fault

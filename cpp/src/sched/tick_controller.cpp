// tick_controller.cpp — one node's policy, statistics and watchdog (tick_controller.hpp).
#include "horus/sched/tick_controller.hpp"

#include <algorithm>

namespace horus {

Gate TickController::gate(int64_t now_ns) {
    const Gate g = policy_.gate(now_ns);
    if (g == Gate::Restart) {
        ++stats_.restarts;
    } else if (g != Gate::Run) {
        ++stats_.skipped;
        if ((stats_.skipped & 15) == 1) publish(false);
    }
    return g;
}

void TickController::started(int64_t due_ns, int64_t start_ns) {
    stats_.jitter_ns.record(start_ns - due_ns);
    in_tick_since_.store(start_ns > 0 ? start_ns : 1, std::memory_order_relaxed);
}

Verdict TickController::finished(int64_t due_ns, int64_t start_ns, int64_t end_ns) {
    in_tick_since_.store(0, std::memory_order_relaxed);
    const int64_t took = end_ns - start_ns;
    const bool was_safe = policy_.in_safe_mode();
    const Verdict v = policy_.finished(due_ns, start_ns, end_ns);
    const double s = static_cast<double>(took) / 1e9;
    ++stats_.ticks;
    stats_.total_tick_s += s;
    stats_.max_tick_s = std::max(stats_.max_tick_s, s);
    stats_.tick_ns.record(took);
    if (took > period_ns_) ++stats_.overruns;
    if (took > 0 && policy_.budget_exceeded_last()) ++stats_.budget_overruns;
    if (policy_.missed_last()) ++stats_.misses;
    if (!was_safe && policy_.in_safe_mode()) ++stats_.safe_mode_entries;
    publish((stats_.ticks & 15) == 1);
    return v;
}

FailAction TickController::failed(int64_t now_ns) {
    in_tick_since_.store(0, std::memory_order_relaxed);
    ++stats_.errors;
    const FailAction a = policy_.failed(now_ns);
    publish(false);
    return a;
}

bool TickController::watchdog_check(int64_t now_ns) noexcept {
    if (watchdog_ns_ <= 0) return false;
    const int64_t since = in_tick_since_.load(std::memory_order_relaxed);
    if (since == 0 || now_ns - since <= watchdog_ns_) return false;
    if (reported_tick_.load(std::memory_order_relaxed) == since) return false;
    reported_tick_.store(since, std::memory_order_relaxed);
    stats_.watchdog_expired.fetch_add(1, std::memory_order_relaxed);
    return true;
}

}  // namespace horus

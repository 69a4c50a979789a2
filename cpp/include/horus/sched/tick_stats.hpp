// tick_stats.hpp — a node's tick statistics (NodeStats) and the log-linear histogram
// behind its percentiles.
//
// DurationHistogram keeps non-negative nanosecond values in 488 buckets: exact below
// 16 ns, then 8 buckets per power of two, so a percentile is reported as the upper
// edge of its bucket: never below the true value and at most 12.5 % above it.
// Recording is O(1) and allocation-free (a 1 kHz loop pays a few ns).
//
// Written by the thread that runs the node; read after the run, or (for discovery)
// through the registry (node_registry.hpp). `watchdog_expired` alone is written by
// the run's watchdog thread, hence atomic.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace horus {

class DurationHistogram {
  public:
    static constexpr int kBuckets = 488;
    void record(int64_t ns);
    /// The smallest bucket edge at or above the q-quantile (q in [0, 1]); 0 when empty.
    uint64_t percentile(double q) const;
    uint64_t count() const { return count_; }
    uint64_t max() const { return max_; }
    void clear() { *this = DurationHistogram{}; }

    static int bucket_of(uint64_t ns);
    static uint64_t upper_edge(int bucket);

  private:
    std::array<uint64_t, kBuckets> buckets_{};
    uint64_t count_ = 0;
    uint64_t max_ = 0;
};

struct NodeStats {
    uint64_t ticks = 0;            // ticks that ran and returned
    uint64_t overruns = 0;         // ticks that took longer than the period
    uint64_t misses = 0;           // ticks that ended later than due + deadline
    uint64_t budget_overruns = 0;  // ticks that ran longer than the budget
    uint64_t skipped = 0;          // due slots not ticked (on_miss skip, failure skip/restart backoff)
    uint64_t errors = 0;           // ticks (or restart inits) that raised
    uint64_t restarts = 0;         // inits re-run by failure_policy restart
    uint64_t safe_mode_entries = 0;  // times the node went into safe mode
    std::atomic<uint64_t> watchdog_expired{0};  // ticks still running after the watchdog time
    double total_tick_s = 0;
    double max_tick_s = 0;
    DurationHistogram tick_ns;    // tick durations
    DurationHistogram jitter_ns;  // start - due of every tick (how late each tick started)

    double mean_tick_s() const { return ticks ? total_tick_s / static_cast<double>(ticks) : 0.0; }
    double p99_tick_s() const { return static_cast<double>(tick_ns.percentile(0.99)) / 1e9; }
    double jitter_p50_s() const { return static_cast<double>(jitter_ns.percentile(0.50)) / 1e9; }
    double jitter_p99_s() const { return static_cast<double>(jitter_ns.percentile(0.99)) / 1e9; }
    double jitter_max_s() const { return static_cast<double>(jitter_ns.max()) / 1e9; }

    NodeStats() = default;
    NodeStats(const NodeStats& o);
    NodeStats& operator=(const NodeStats& o);
};

}  // namespace horus

// tick_controller.hpp — one node's side of a run: its TickPolicy (budget, deadline,
// on_miss, failure_policy), its NodeStats, its watchdog and its discovery entry.
//
// horus::run drives one per node, and so does Python's horus.run (through
// horus._core._TickController): the rules and the statistics have one implementation.
// Per due slot the loop calls gate(); when it ticks, started() before and finished()
// (or failed()) after. A node keeps its controller from run to run (configure()).
//
// Threads: everything but watchdog_check() is called by the thread that runs the node.
// watchdog_check() is called by the run's watchdog thread; it reads in_tick_since_
// (written by the node's thread, relaxed: a late view only delays a report by one
// poll) and writes only reported_tick_ and stats().watchdog_expired.
#pragma once

#include <atomic>
#include <cstdint>

#include "horus/sched/node_registry.hpp"
#include "horus/sched/tick_policy.hpp"
#include "horus/sched/tick_stats.hpp"

namespace horus {

class TickController {
  public:
    /// `period_ns`: the node's period (a longer tick is an overrun); `watchdog_ns` 0: none.
    TickController(int64_t period_ns, TickPolicy policy, int64_t watchdog_ns)
        : period_ns_(period_ns), policy_(policy), watchdog_ns_(watchdog_ns) {}
    TickController(const TickController&) = delete;
    TickController& operator=(const TickController&) = delete;

    /// A new run with these rules: the policy's state starts afresh, the statistics
    /// go on accumulating (a node's stats cover all its runs).
    void configure(TickPolicy policy, int64_t watchdog_ns) {
        policy_ = policy;
        watchdog_ns_ = watchdog_ns;
        in_tick_since_.store(0, std::memory_order_relaxed);
        reported_tick_.store(0, std::memory_order_relaxed);
    }

    /// Lists the node in discovery (node_registry.hpp) until close().
    void list(const NodeDescription& node) { registration_ = NodeRegistration(node); }
    /// Writes the final statistics to the entry and removes it.
    void close() noexcept {
        publish(true);
        registration_.close();
    }

    /// What to do with the slot due now; a dropped slot is counted in stats().skipped,
    /// a Restart in stats().restarts.
    Gate gate(int64_t now_ns);
    /// The tick due at `due_ns` starts at `start_ns` (its lateness is the jitter).
    void started(int64_t due_ns, int64_t start_ns);
    /// It returned at `end_ns`.
    Verdict finished(int64_t due_ns, int64_t start_ns, int64_t end_ns);
    /// It (or a restart's init) raised at `now_ns`.
    FailAction failed(int64_t now_ns);
    /// A restart's init returned.
    void restarted() { policy_.restarted(); }
    /// Misses to report now (at most once a second), 0 when none.
    uint64_t take_miss_report(int64_t now_ns) { return policy_.take_miss_report(now_ns); }
    /// Survived failures to report now (at most once a second), 0 when none.
    uint64_t take_failure_report(int64_t now_ns) { return policy_.take_failure_report(now_ns); }

    /// Watchdog thread: true once for a tick still running `watchdog_ns` after it started.
    bool watchdog_check(int64_t now_ns) noexcept;
    int64_t watchdog_ns() const { return watchdog_ns_; }
    /// When the running tick started (0: none is running).
    int64_t in_tick_since() const { return in_tick_since_.load(std::memory_order_relaxed); }

    const NodeStats& stats() const { return stats_; }
    const TickPolicy& policy() const { return policy_; }
    bool listed() const { return registration_.listed(); }

  private:
    void publish(bool percentiles) noexcept { registration_.update(stats_, policy_.in_safe_mode(), percentiles); }

    int64_t period_ns_;
    TickPolicy policy_;
    int64_t watchdog_ns_;
    NodeStats stats_;
    NodeRegistration registration_;
    std::atomic<int64_t> in_tick_since_{0};
    std::atomic<int64_t> reported_tick_{0};
};

}  // namespace horus

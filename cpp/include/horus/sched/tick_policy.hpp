// tick_policy.hpp — what happens around one node's ticks: budget and deadline checks,
// the miss policy (on_miss), the failure policy (failure_policy) and the restart
// backoff. Pure logic on integer nanoseconds of a monotonic clock; no sleeping, no
// threads, so every rule is testable with a virtual clock.
//
// This is the one implementation of these rules: horus::run uses it directly and
// Python's horus.run through the binding (horus._core._TickController, which adds
// the statistics of tick_stats.hpp and the discovery entry).
//
// The rules (docs/scheduler.md):
//   * A tick due at `due` that ran [start, end] exceeds its budget iff end - start > budget,
//     and misses its deadline iff end - due > deadline (0: not checked). A budget
//     without a deadline makes the deadline equal to the budget.
//   * A deadline miss leads to on_miss: Warn (reported, at most once a second with a
//     count), Skip (the next due slot is dropped), SafeMode (the node's safe_mode
//     callback runs after this tick and after every later tick that misses, until a
//     tick meets its deadline), Stop (the run stops cleanly).
//   * A tick that raises leads to failure_policy: Fatal (the run stops with NodeError),
//     Restart (init runs again after backoff * 2^(n-1) for the n-th restart; past
//     max_restarts it is fatal), Skip (the tick is dropped; after max_failures failures
//     in a row the node is suppressed for cooldown), Ignore (reported, ticking goes on).
//
// Used by one thread at a time (the one that runs the node).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace horus {

/// What a deadline miss leads to (Node option on_miss).
enum class MissPolicy : uint8_t { Warn = 0, Skip = 1, SafeMode = 2, Stop = 3 };

/// What a tick that raises leads to (Node option failure_policy).
struct FailurePolicy {
    enum class Kind : uint8_t { Fatal = 0, Restart = 1, Skip = 2, Ignore = 3 };
    Kind kind = Kind::Fatal;
    uint32_t max_restarts = 5;  // Restart: restarts allowed before a failure is fatal
    double backoff_s = 0.1;     // Restart: wait before the first restart (doubles each time)
    uint32_t max_failures = 5;  // Skip: failures in a row that suppress the node
    double cooldown_s = 30.0;   // Skip: how long a suppressed node does not tick

    static FailurePolicy fatal() { return {}; }
    static FailurePolicy restart(uint32_t max_restarts = 5, double backoff_s = 0.1) {
        return {Kind::Restart, max_restarts, backoff_s, 5, 30.0};
    }
    static FailurePolicy skip(uint32_t max_failures = 5, double cooldown_s = 30.0) {
        return {Kind::Skip, 5, 0.1, max_failures, cooldown_s};
    }
    static FailurePolicy ignore() { return {Kind::Ignore, 5, 0.1, 5, 30.0}; }
};

/// A budget, deadline or watchdog in seconds as the rules take it: nullopt is 0 (not set),
/// a positive time is rounded to whole ns and is at least 1 ns.
int64_t option_ns(const std::optional<double>& seconds);

/// "warn" "skip" "safe_mode" "stop"; InvalidArgument naming the value and the choices.
MissPolicy parse_miss_policy(const std::string& name);
const char* miss_policy_name(MissPolicy p);
/// "fatal" "restart" "skip" "ignore" with the default parameters; InvalidArgument otherwise.
FailurePolicy parse_failure_policy(const std::string& name);
const char* failure_policy_name(FailurePolicy::Kind k);
/// InvalidArgument naming `what` (e.g. "Node 'x': failure_policy") when a parameter is out of range.
void validate_failure_policy(const FailurePolicy& p, const std::string& what);

/// Before a due slot: what the scheduler does with it.
enum class Gate : uint8_t {
    Run = 0,            // tick
    Restart = 1,        // run init again (the restart policy's backoff is over), then tick
    SkipAfterMiss = 2,  // drop this slot (on_miss = skip after a miss)
    Suppressed = 3,     // drop this slot (failure_policy = skip, cooling down)
    Backoff = 4,        // drop this slot (failure_policy = restart, waiting to restart)
};

/// After a tick that returned: what its timing leads to.
enum class Verdict : uint8_t {
    Ok = 0,        // met its deadline (or none is set)
    Missed = 1,    // missed, on_miss = warn (or skip: the next slot is dropped)
    SafeMode = 2,  // missed, on_miss = safe_mode: call the node's safe_mode callback now
    Stop = 3,      // missed, on_miss = stop: stop the run
};

/// After a tick (or a restart's init) that raised.
enum class FailAction : uint8_t {
    Fatal = 0,              // stop the run with NodeError
    Restart = 1,            // init runs again once the backoff is over (gate() says when)
    Dropped = 2,            // the tick is dropped; the node goes on
    Suppressed = 3,         // dropped, and the node is suppressed for the cooldown
    Ignored = 4,            // reported; the node goes on
    RestartsExhausted = 5,  // restart policy past max_restarts: fatal
};

class TickPolicy {
  public:
    /// Budget and deadline in ns, 0 = none (a budget alone is also the deadline).
    TickPolicy(int64_t budget_ns, int64_t deadline_ns, MissPolicy on_miss,
               FailurePolicy failure);

    Gate gate(int64_t now_ns);
    Verdict finished(int64_t due_ns, int64_t start_ns, int64_t end_ns);
    FailAction failed(int64_t now_ns);
    /// A restart's init returned: the node ticks again.
    void restarted() { restart_pending_ = false; }

    /// The count of misses to report now (at most once a second), 0 when none is due.
    uint64_t take_miss_report(int64_t now_ns);
    /// The same for failures the node survives (restart, skip, ignore).
    uint64_t take_failure_report(int64_t now_ns);

    int64_t budget_ns() const { return budget_ns_; }
    int64_t deadline_ns() const { return deadline_ns_; }
    MissPolicy on_miss() const { return on_miss_; }
    const FailurePolicy& failure_policy() const { return failure_; }
    bool in_safe_mode() const { return safe_mode_; }
    bool budget_exceeded_last() const { return budget_exceeded_last_; }
    bool missed_last() const { return missed_last_; }
    uint32_t restarts() const { return restarts_; }
    uint32_t failures_in_a_row() const { return failures_in_a_row_; }

  private:
    int64_t budget_ns_, deadline_ns_;
    MissPolicy on_miss_;
    FailurePolicy failure_;
    bool skip_next_ = false;
    bool safe_mode_ = false;
    bool budget_exceeded_last_ = false;
    bool missed_last_ = false;
    bool restart_pending_ = false;
    int64_t not_before_ns_ = 0;  // backoff or cooldown end
    uint32_t restarts_ = 0;
    uint32_t failures_in_a_row_ = 0;
    // Events (misses, survived failures) reported at most once a second, with their count.
    struct RateLimitedReport {
        uint64_t unreported = 0;
        int64_t next_ns = 0;
        uint64_t take(int64_t now_ns);
    };
    RateLimitedReport misses_report_, failures_report_;
};

}  // namespace horus

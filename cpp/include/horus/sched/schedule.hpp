// schedule.hpp — the scheduling policy of horus::run, as pure functions of
// integer nanoseconds, so it can be tested without sleeping.
//
// Python's horus._schedule is the same policy, function for function; both are
// checked against one table of cases, tests/data/schedule_cases.json
// (cpp/tests/test_schedule.cpp, tests/test_schedule.py).
//
// The policy:
//   * A node's rate must lie in [kMinRateHz, kMaxRateHz]; its period is
//     1e9 / rate rounded to whole nanoseconds (1000 ns .. 1e15 ns, exact in
//     int64 and in a double).
//   * Nodes tick in tick_order: by `order`, ties in the order given.
//   * Every node is first due at the start. A round samples `now` once; the
//     nodes with due <= now tick, in tick order.
//   * A tick that ran [start, after] is an overrun iff after - start > period.
//   * Its next due time is the first slot due + k * period (k >= 1) that is not
//     before `after`: slots already missed are skipped (no catch-up burst), a
//     slot at exactly `after` is kept, and the grid of slots never drifts.
//   * Rounds start while now < end; a duration of kForeverS or more (or inf,
//     or none) has no end.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

namespace horus::schedule {

inline constexpr double kMinRateHz = 1e-6;  // period 1e6 s (11.6 days)
inline constexpr double kMaxRateHz = 1e6;   // period 1 us
inline constexpr double kForeverS = 1e9;    // about 31.7 years: durations this long never end

/// True when `rate_hz` is a rate a Node accepts (false for NaN and inf).
inline bool rate_in_range(double rate_hz) { return rate_hz >= kMinRateHz && rate_hz <= kMaxRateHz; }

/// The period of a node with `rate_hz` (in range), in whole nanoseconds.
inline int64_t period_ns(double rate_hz) { return static_cast<int64_t>(std::floor(1e9 / rate_hz + 0.5)); }

/// When a run started at `start_ns` that lasts `duration_s` (>= 0) ends; nullopt: never.
inline std::optional<int64_t> end_ns(int64_t start_ns, std::optional<double> duration_s) {
    if (!duration_s || *duration_s >= kForeverS) return std::nullopt;
    return start_ns + static_cast<int64_t>(std::floor(*duration_s * 1e9 + 0.5));
}

/// The positions of the nodes with these `orders`, in the order they tick.
inline std::vector<std::size_t> tick_order(const std::vector<int>& orders) {
    std::vector<std::size_t> idx(orders.size());
    std::iota(idx.begin(), idx.end(), std::size_t{0});
    std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return orders[a] < orders[b]; });
    return idx;
}

/// The first node at or after position `from` that is due at `now`; nullopt if none is.
inline std::optional<std::size_t> next_to_tick(const std::vector<int64_t>& due_ns, int64_t now_ns, std::size_t from) {
    for (std::size_t i = from; i < due_ns.size(); ++i)
        if (due_ns[i] <= now_ns) return i;
    return std::nullopt;
}

/// Whether a tick that ran from `start_ns` to `after_ns` outlasted its period.
inline bool overran(int64_t start_ns, int64_t after_ns, int64_t period_ns) { return after_ns - start_ns > period_ns; }

/// The next due time of a node that was due at `due_ns` and finished its tick at `after_ns`.
inline int64_t next_due_ns(int64_t due_ns, int64_t period_ns, int64_t after_ns) {
    if (after_ns <= due_ns + period_ns) return due_ns + period_ns;               // on time: the next slot
    return due_ns + ((after_ns - due_ns - 1) / period_ns + 1) * period_ns;       // late: skip the missed slots
}

/// When the loop has something to do next: the earliest due time, or the end if sooner.
inline int64_t wake_ns(const std::vector<int64_t>& due_ns, std::optional<int64_t> end) {
    int64_t wake = *std::min_element(due_ns.begin(), due_ns.end());
    return end ? std::min(wake, *end) : wake;
}

/// The shortest text that reads back as `v` (1e-10, 30, 0.1), for error messages.
inline std::string number_text(double v) {
    char buf[32];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
}

/// What a tick call did (Env::tick's result; a bool true is kRan, false is kStop).
enum TickOutcome : int { kStop = 0, kRan = 1, kDropped = 2 };

/// The loop of horus::run over an abstract clock, for nodes already in tick order
/// with periods `period` (not empty). `env` provides:
///   int64_t now();                         the clock, in ns
///   bool stopped();                        polled before each round and tick
///   int tick(size_t i, int64_t due);       node i's slot due at `due`: kRan (it ticked),
///                                          kDropped (the node's policy dropped the slot),
///                                          kStop (stop the run at once)
///   void ticked(size_t i, int64_t start, int64_t after, bool overrun);   after each kRan
///   void sleep_until(int64_t t);           may return early (the loop re-checks)
/// horus::run passes the steady clock; the tests pass a virtual clock.
template <class Env>
void run_rounds(const std::vector<int64_t>& period, std::optional<double> duration_s, Env& env) {
    const int64_t start = env.now();
    const std::optional<int64_t> end = end_ns(start, duration_s);
    std::vector<int64_t> due(period.size(), start);
    while (!env.stopped()) {
        const int64_t now = env.now();
        if (end && now >= *end) return;
        for (auto i = next_to_tick(due, now, 0); i && !env.stopped(); i = next_to_tick(due, now, *i + 1)) {
            const int64_t t0 = env.now();
            const int outcome = static_cast<int>(env.tick(*i, due[*i]));
            if (outcome == kStop) return;
            const int64_t after = env.now();
            if (outcome == kRan) env.ticked(*i, t0, after, overran(t0, after, period[*i]));
            due[*i] = next_due_ns(due[*i], period[*i], after);
        }
        env.sleep_until(wake_ns(due, end));
    }
}

}  // namespace horus::schedule

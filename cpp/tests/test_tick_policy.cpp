// test_tick_policy.cpp — the budget, deadline, on_miss and failure_policy rules
// (tick_policy.hpp) and the statistics histogram (tick_stats.hpp), on integer
// nanoseconds without sleeping.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include "horus/base/error.hpp"
#include "horus/sched/tick_controller.hpp"
#include "horus/sched/tick_policy.hpp"
#include "horus/sched/tick_stats.hpp"

using namespace horus;

namespace {
constexpr int64_t kMs = 1'000'000;
constexpr int64_t kS = 1'000'000'000;
}  // namespace

TEST(TickPolicy, ParsesPolicyNamesAndRejectsOthersNamingThem) {
    EXPECT_EQ(parse_miss_policy("warn"), MissPolicy::Warn);
    EXPECT_EQ(parse_miss_policy("skip"), MissPolicy::Skip);
    EXPECT_EQ(parse_miss_policy("safe_mode"), MissPolicy::SafeMode);
    EXPECT_EQ(parse_miss_policy("stop"), MissPolicy::Stop);
    try {
        parse_miss_policy("Stop");
        FAIL();
    } catch (const InvalidArgument& e) {
        EXPECT_NE(std::string(e.what()).find("on_miss = 'Stop'"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("'safe_mode'"), std::string::npos);
    }
    EXPECT_EQ(parse_failure_policy("restart").kind, FailurePolicy::Kind::Restart);
    EXPECT_THROW(parse_failure_policy(""), InvalidArgument);
    FailurePolicy p = FailurePolicy::skip(0, 1);
    EXPECT_THROW(validate_failure_policy(p, "x"), InvalidArgument);
    p = FailurePolicy::restart(3, -1);
    EXPECT_THROW(validate_failure_policy(p, "x"), InvalidArgument);
    p = FailurePolicy::restart(3, std::nan(""));
    EXPECT_THROW(validate_failure_policy(p, "x"), InvalidArgument);
}

TEST(TickPolicy, DeadlineIsMeasuredFromTheDueTimeAndBudgetFromTheStart) {
    TickPolicy p(2 * kMs, 5 * kMs, MissPolicy::Warn, FailurePolicy::fatal());
    // due 0, started 4 ms late, ran 1 ms: within budget, ends 5 ms after due: not a miss
    EXPECT_EQ(p.finished(0, 4 * kMs, 5 * kMs), Verdict::Ok);
    EXPECT_FALSE(p.budget_exceeded_last());
    // started at once, ran 3 ms: over budget but within the deadline
    EXPECT_EQ(p.finished(10 * kMs, 10 * kMs, 13 * kMs), Verdict::Ok);
    EXPECT_TRUE(p.budget_exceeded_last());
    // ended 5 ms + 1 ns after due: a miss
    EXPECT_EQ(p.finished(20 * kMs, 24 * kMs, 25 * kMs + 1), Verdict::Missed);
    EXPECT_TRUE(p.missed_last());
}

TEST(TickPolicy, ABudgetAloneIsTheDeadlineAndNoneChecksNothing) {
    TickPolicy budget_only(1 * kMs, 0, MissPolicy::Warn, FailurePolicy::fatal());
    EXPECT_EQ(budget_only.deadline_ns(), 1 * kMs);
    EXPECT_EQ(budget_only.finished(0, 0, 1 * kMs + 1), Verdict::Missed);
    TickPolicy none(0, 0, MissPolicy::Stop, FailurePolicy::fatal());
    EXPECT_EQ(none.finished(0, 0, 100 * kS), Verdict::Ok);
}

TEST(TickPolicy, SkipDropsExactlyTheNextSlot) {
    TickPolicy p(0, 1 * kMs, MissPolicy::Skip, FailurePolicy::fatal());
    EXPECT_EQ(p.gate(0), Gate::Run);
    EXPECT_EQ(p.finished(0, 0, 2 * kMs), Verdict::Missed);
    EXPECT_EQ(p.gate(3 * kMs), Gate::SkipAfterMiss);
    EXPECT_EQ(p.gate(4 * kMs), Gate::Run);
}

TEST(TickPolicy, SafeModeLastsUntilATickMeetsItsDeadline) {
    TickPolicy p(0, 1 * kMs, MissPolicy::SafeMode, FailurePolicy::fatal());
    EXPECT_EQ(p.finished(0, 0, 2 * kMs), Verdict::SafeMode);
    EXPECT_TRUE(p.in_safe_mode());
    EXPECT_EQ(p.finished(10 * kMs, 10 * kMs, 12 * kMs), Verdict::SafeMode);
    EXPECT_TRUE(p.in_safe_mode());
    EXPECT_EQ(p.finished(20 * kMs, 20 * kMs, 20 * kMs + 10), Verdict::Ok);
    EXPECT_FALSE(p.in_safe_mode());
}

TEST(TickPolicy, StopOnMiss) {
    TickPolicy p(0, 1 * kMs, MissPolicy::Stop, FailurePolicy::fatal());
    EXPECT_EQ(p.finished(0, 0, 1 * kMs), Verdict::Ok);  // exactly at the deadline is on time
    EXPECT_EQ(p.finished(0, 0, 1 * kMs + 1), Verdict::Stop);
}

TEST(TickPolicy, RestartBacksOffDoublingAndIsFatalPastTheLimit) {
    TickPolicy p(0, 0, MissPolicy::Warn, FailurePolicy::restart(3, 0.1));
    int64_t t = 1 * kS;
    for (int k = 1; k <= 3; ++k) {
        EXPECT_EQ(p.failed(t), FailAction::Restart) << k;
        const int64_t wait = (100 * kMs) << (k - 1);  // 100, 200, 400 ms
        EXPECT_EQ(p.gate(t + wait - 1), Gate::Backoff) << k;
        EXPECT_EQ(p.gate(t + wait), Gate::Restart) << k;
        p.restarted();
        EXPECT_EQ(p.gate(t + wait), Gate::Run) << k;
        t += wait + kS;
    }
    EXPECT_EQ(p.restarts(), 3u);
    EXPECT_EQ(p.failed(t), FailAction::RestartsExhausted);
}

TEST(TickPolicy, ARestartWhoseInitFailsCountsAsTheNextRestart) {
    TickPolicy p(0, 0, MissPolicy::Warn, FailurePolicy::restart(2, 0.0));
    EXPECT_EQ(p.failed(0), FailAction::Restart);
    EXPECT_EQ(p.gate(0), Gate::Restart);
    EXPECT_EQ(p.failed(0), FailAction::Restart);  // the init of restart 1 raised
    EXPECT_EQ(p.gate(0), Gate::Restart);
    EXPECT_EQ(p.failed(0), FailAction::RestartsExhausted);
}

TEST(TickPolicy, SkipSuppressesAfterMaxFailuresInARowThenCoolsDown) {
    TickPolicy p(0, 0, MissPolicy::Warn, FailurePolicy::skip(3, 2.0));
    EXPECT_EQ(p.failed(0), FailAction::Dropped);
    EXPECT_EQ(p.failed(0), FailAction::Dropped);
    EXPECT_EQ(p.finished(0, 0, 1), Verdict::Ok);  // a good tick resets the count
    EXPECT_EQ(p.failed(0), FailAction::Dropped);
    EXPECT_EQ(p.failed(0), FailAction::Dropped);
    EXPECT_EQ(p.failed(10), FailAction::Suppressed);
    EXPECT_EQ(p.gate(10 + 2 * kS - 1), Gate::Suppressed);
    EXPECT_EQ(p.gate(10 + 2 * kS), Gate::Run);
}

TEST(TickPolicy, IgnoreAndFatal) {
    TickPolicy ignore(0, 0, MissPolicy::Warn, FailurePolicy::ignore());
    for (int i = 0; i < 100; ++i) EXPECT_EQ(ignore.failed(i), FailAction::Ignored);
    EXPECT_EQ(ignore.gate(200), Gate::Run);
    TickPolicy fatal(0, 0, MissPolicy::Warn, FailurePolicy::fatal());
    EXPECT_EQ(fatal.failed(0), FailAction::Fatal);
}

TEST(TickPolicy, ReportsAreAtMostOnceASecondWithTheCount) {
    TickPolicy p(0, 1, MissPolicy::Warn, FailurePolicy::ignore());
    for (int i = 0; i < 5; ++i) p.finished(0, 0, 10);
    EXPECT_EQ(p.take_miss_report(0), 5u);
    p.finished(0, 0, 10);
    EXPECT_EQ(p.take_miss_report(kS - 1), 0u);
    EXPECT_EQ(p.take_miss_report(kS), 1u);
    EXPECT_EQ(p.take_miss_report(5 * kS), 0u);  // nothing new
    p.failed(0);
    p.failed(0);
    EXPECT_EQ(p.take_failure_report(0), 2u);
}

TEST(TickPolicy, HugeBackoffAndCooldownDoNotOverflow) {
    TickPolicy p(0, 0, MissPolicy::Warn, FailurePolicy::restart(100, 1e6));
    const int64_t late = INT64_MAX - 10;
    EXPECT_EQ(p.failed(late), FailAction::Restart);
    EXPECT_EQ(p.gate(late), Gate::Backoff);
    TickPolicy s(0, 0, MissPolicy::Warn, FailurePolicy::skip(1, 1e6));
    EXPECT_EQ(s.failed(late), FailAction::Suppressed);
    EXPECT_EQ(s.gate(INT64_MAX - 1), Gate::Suppressed);
}

TEST(DurationHistogram, PercentilesAreNeverBelowAndAtMostAnEighthAbove) {
    std::mt19937_64 rng(7);
    for (int trial = 0; trial < 20; ++trial) {
        DurationHistogram h;
        std::vector<int64_t> v;
        std::lognormal_distribution<double> d(10, 2);
        for (int i = 0; i < 5000; ++i) {
            const int64_t x = static_cast<int64_t>(d(rng));
            v.push_back(x);
            h.record(x);
        }
        std::sort(v.begin(), v.end());
        for (double q : {0.5, 0.9, 0.99, 1.0}) {
            const std::size_t rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
            const uint64_t truth = static_cast<uint64_t>(v[rank - 1]);
            const uint64_t got = h.percentile(q);
            EXPECT_GE(got, truth) << q;
            EXPECT_LE(static_cast<double>(got), static_cast<double>(truth) * 1.125 + 1) << q;
        }
        EXPECT_EQ(h.max(), static_cast<uint64_t>(v.back()));
    }
    DurationHistogram empty;
    EXPECT_EQ(empty.percentile(0.99), 0u);
    DurationHistogram neg;
    neg.record(-5);  // a clock step backwards counts as 0
    EXPECT_EQ(neg.percentile(1.0), 0u);
    for (int b = 0; b < DurationHistogram::kBuckets - 1; ++b)
        EXPECT_EQ(DurationHistogram::bucket_of(DurationHistogram::upper_edge(b)), b) << b;
}

TEST(TickController, CountsTicksMissesSkipsRestartsAndJitter) {
    TickController c(1 * kMs, TickPolicy(0, 500'000, MissPolicy::Skip, FailurePolicy::restart(5, 0)), 0);
    EXPECT_EQ(c.gate(0), Gate::Run);
    c.started(0, 20'000);
    EXPECT_EQ(c.finished(0, 20'000, 100'000), Verdict::Ok);
    c.started(1 * kMs, 1 * kMs + 40'000);
    EXPECT_EQ(c.finished(1 * kMs, 1 * kMs + 40'000, 3 * kMs), Verdict::Missed);  // also an overrun
    EXPECT_EQ(c.gate(4 * kMs), Gate::SkipAfterMiss);
    EXPECT_EQ(c.failed(5 * kMs), FailAction::Restart);
    EXPECT_EQ(c.gate(5 * kMs), Gate::Restart);
    const NodeStats& s = c.stats();
    EXPECT_EQ(s.ticks, 2u);
    EXPECT_EQ(s.misses, 1u);
    EXPECT_EQ(s.overruns, 1u);
    EXPECT_EQ(s.skipped, 1u);
    EXPECT_EQ(s.errors, 1u);
    EXPECT_EQ(s.restarts, 1u);
    EXPECT_EQ(s.jitter_ns.max(), 40'000u);
    EXPECT_GE(s.jitter_p99_s(), 40e-6);
    EXPECT_NEAR(s.max_tick_s, 1.96e-3, 1e-9);
}

TEST(TickController, WatchdogReportsAStuckTickOnce) {
    TickController c(1 * kMs, TickPolicy(0, 0, MissPolicy::Warn, FailurePolicy::fatal()), 10 * kMs);
    c.started(0, 100);
    EXPECT_FALSE(c.watchdog_check(5 * kMs));
    EXPECT_TRUE(c.watchdog_check(11 * kMs));
    EXPECT_FALSE(c.watchdog_check(50 * kMs));  // once per tick
    c.finished(0, 100, 60 * kMs);
    EXPECT_FALSE(c.watchdog_check(100 * kMs));  // nothing running
    c.started(100 * kMs, 100 * kMs);
    EXPECT_TRUE(c.watchdog_check(111 * kMs));  // the next stuck tick is reported again
    EXPECT_EQ(c.stats().watchdog_expired.load(), 2u);
}

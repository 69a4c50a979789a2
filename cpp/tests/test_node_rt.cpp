// test_node_rt.cpp — horus::run's real-time options in real time: deadline misses and
// each on_miss, budget overruns, failure policies (restart counts and backoff, skip,
// ignore), priority and core (granted, and refused without CAP_SYS_NICE: a warning,
// or NodeError with rt), watchdog, own threads, request_stop, logs, has_msg/recv_all,
// tick_rate, and the statistics in discovery. The exact rules are in
// test_tick_policy.cpp; these provoke them on purpose with sleeping ticks.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cmath>
#include <linux/capability.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>

#include "horus/base/error.hpp"
#include "horus/horus.hpp"
#include "horus/sched/node_log.hpp"
#include "horus/sched/node_registry.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;
using horus::Node;

namespace {

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// Drops CAP_SYS_NICE from this process and sets RLIMIT_RTPRIO to 0: SCHED_FIFO is refused.
bool drop_rt_rights() {
    rlimit zero{0, 0};
    if (setrlimit(RLIMIT_RTPRIO, &zero) != 0) return false;
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (syscall(SYS_capget, &hdr, data) != 0) return false;
    data[CAP_SYS_NICE / 32].effective &= ~(1u << (CAP_SYS_NICE % 32));
    data[CAP_SYS_NICE / 32].permitted &= ~(1u << (CAP_SYS_NICE % 32));
    return syscall(SYS_capset, &hdr, data) == 0;
}

}  // namespace

TEST(NodeRt, ValidatesTheRealTimeOptionsNamingTheValue) {
    auto tick = [](Node&) {};
    auto what = [&](Node::Options o) -> std::string {
        try {
            Node n(std::move(o));
        } catch (const horus::InvalidArgument& e) {
            return e.what();
        }
        return "";
    };
    EXPECT_NE(what({.name = "n", .tick = tick, .budget = 0.0}).find("budget = 0 s is out of range"), std::string::npos);
    EXPECT_NE(what({.name = "n", .tick = tick, .deadline = -1.0}).find("deadline = -1 s"), std::string::npos);
    EXPECT_NE(what({.name = "n", .tick = tick, .watchdog = std::nan("")}).find("watchdog = nan s"), std::string::npos);
    EXPECT_NE(what({.name = "n", .tick = tick, .priority = 0}).find("priority = 0 is out of range"), std::string::npos);
    EXPECT_NE(what({.name = "n", .tick = tick, .priority = 100}).find("1 <= priority <= 99"), std::string::npos);
    EXPECT_NE(what({.name = "n", .tick = tick, .core = -1}).find("core = -1"), std::string::npos);
    EXPECT_NE(what({.name = "n", .tick = tick, .on_miss = horus::MissPolicy::SafeMode}).find("safe_mode callback"),
              std::string::npos);
    EXPECT_NE(what({.name = "n", .tick = tick, .failure_policy = horus::FailurePolicy::skip(0)}).find("max_failures"),
              std::string::npos);
    Node fast({.name = "fast", .tick = tick, .rate = 2000});
    try {
        horus::run({&fast}, horus::RunOptions{.duration = 0.1, .tick_rate = 1000});
        FAIL();
    } catch (const horus::InvalidArgument& e) {
        EXPECT_NE(std::string(e.what()).find("rate = 2000 Hz is above the run's tick_rate = 1000 Hz"), std::string::npos);
    }
    EXPECT_THROW(horus::run({&fast}, horus::RunOptions{.duration = 0.1, .watchdog = 0.0}), horus::InvalidArgument);
}

TEST(NodeRt, DeadlineMissesAreCountedAndWarnKeepsTicking) {
    int ticks = 0;
    // Margins of tens of ms: this shared VM sometimes wakes a sleeper milliseconds late.
    Node n({.name = "late", .tick = [&](Node&) { if (++ticks % 2 == 0) sleep_ms(40); }, .rate = 10,
            .budget = 0.02});
    horus::run({&n}, 1.0);
    EXPECT_GE(ticks, 8);
    const auto& s = n.stats();
    EXPECT_GE(s.misses, static_cast<uint64_t>(ticks / 2));
    EXPECT_LE(s.misses, static_cast<uint64_t>(ticks / 2 + 1));
    EXPECT_EQ(s.budget_overruns, static_cast<uint64_t>(ticks / 2));
    EXPECT_GE(s.max_tick_s, 0.04);
    EXPECT_GE(s.p99_tick_s(), 0.04);
}

TEST(NodeRt, OnMissSkipDropsTheNextSlot) {
    int ticks = 0;
    Node n({.name = "skipper", .tick = [&](Node&) { if (++ticks == 3) sleep_ms(40); }, .rate = 20,
            .deadline = 0.02, .on_miss = horus::MissPolicy::Skip});
    horus::run({&n}, 0.5);
    EXPECT_EQ(n.stats().misses, 1u);
    EXPECT_EQ(n.stats().skipped, 1u);
}

TEST(NodeRt, OnMissSafeModeCallsTheCallbackUntilATickMeetsItsDeadline) {
    int ticks = 0, safe_calls = 0;
    bool safe_seen_in_callback = false, recovered = false;
    Node n({.name = "arm",
            .tick = [&](Node& self) {
                ++ticks;
                if (ticks >= 3 && ticks <= 5) sleep_ms(40);  // three missed ticks in a row
                if (ticks == 7) recovered = !self.in_safe_mode();
            },
            .rate = 10,
            .safe_mode = [&](Node& self) { ++safe_calls; safe_seen_in_callback = self.in_safe_mode(); },
            .deadline = 0.02,
            .on_miss = horus::MissPolicy::SafeMode});
    horus::run({&n}, 0.75);
    EXPECT_EQ(safe_calls, 3);
    EXPECT_TRUE(safe_seen_in_callback);
    EXPECT_TRUE(recovered);
    EXPECT_EQ(n.stats().safe_mode_entries, 1u);
}

TEST(NodeRt, OnMissStopStopsTheRunCleanly) {
    int ticks = 0;
    bool shut = false;
    Node n({.name = "strict", .tick = [&](Node&) { if (++ticks == 4) sleep_ms(60); }, .rate = 10,
            .shutdown = [&](Node&) { shut = true; }, .deadline = 0.03, .on_miss = horus::MissPolicy::Stop});
    const auto t0 = std::chrono::steady_clock::now();
    horus::run({&n}, 10.0);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
    EXPECT_EQ(ticks, 4);
    EXPECT_TRUE(shut);
}

TEST(NodeRt, RestartReRunsInitWithBackoffAndIsFatalPastTheLimit) {
    int inits = 0, ticks = 0;
    std::vector<std::chrono::steady_clock::time_point> init_times;
    Node n({.name = "flaky",
            .tick = [&](Node&) {
                ++ticks;
                throw std::runtime_error("motor driver timeout");
            },
            .rate = 1000,
            .init = [&](Node&) { ++inits; init_times.push_back(std::chrono::steady_clock::now()); },
            .failure_policy = horus::FailurePolicy::restart(3, 0.02)});
    try {
        horus::run({&n}, 10.0);
        FAIL() << "the fourth failure is fatal";
    } catch (const horus::NodeError& e) {
        EXPECT_EQ(e.node(), "flaky");
        EXPECT_NE(std::string(e.what()).find("all 3 restarts used"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("motor driver timeout"), std::string::npos);
    }
    EXPECT_EQ(inits, 4);  // the first init and three restarts
    EXPECT_EQ(ticks, 4);
    EXPECT_EQ(n.stats().restarts, 3u);
    EXPECT_EQ(n.stats().errors, 4u);
    ASSERT_EQ(init_times.size(), 4u);
    // backoff 20, 40, 80 ms after each failure (which follows its init by about a tick)
    EXPECT_GE(init_times[1] - init_times[0], 20ms);
    EXPECT_GE(init_times[2] - init_times[1], 40ms);
    EXPECT_GE(init_times[3] - init_times[2], 80ms);
}

TEST(NodeRt, SkipDropsFailingTicksAndIgnoreGoesOn) {
    int a = 0, b = 0;
    Node skip({.name = "skip", .tick = [&](Node&) { if (++a % 2) throw std::runtime_error("odd"); }, .rate = 200,
               .failure_policy = horus::FailurePolicy::skip(3, 1.0)});
    Node ignore({.name = "ignore", .tick = [&](Node&) { ++b; throw std::runtime_error("always"); }, .rate = 200,
                 .failure_policy = horus::FailurePolicy::ignore()});
    horus::run({&skip, &ignore}, 0.3);
    EXPECT_GE(a, 30);
    EXPECT_EQ(skip.stats().errors, static_cast<uint64_t>((a + 1) / 2));
    EXPECT_EQ(skip.stats().ticks, static_cast<uint64_t>(a / 2));
    EXPECT_GE(b, 30);
    EXPECT_EQ(ignore.stats().errors, static_cast<uint64_t>(b));
}

TEST(NodeRt, SkipSuppressesANodeThatFailsMaxFailuresInARow) {
    int a = 0;
    Node n({.name = "broken", .tick = [&](Node&) { ++a; throw std::runtime_error("no"); }, .rate = 1000,
            .failure_policy = horus::FailurePolicy::skip(5, 10.0)});
    horus::run({&n}, 0.3);
    EXPECT_EQ(a, 5);  // then suppressed for 10 s
    EXPECT_GE(n.stats().skipped, 100u);
}

TEST(NodeRt, PriorityAndCoreApplyToTheNodesOwnThread) {
    std::atomic<int> policy{-1}, cpu{-1};
    std::thread::id tick_thread;
    Node n({.name = "motor",
            .tick = [&](Node&) {
                sched_param p{};
                int pol = 0;
                pthread_getschedparam(pthread_self(), &pol, &p);
                policy = pol == SCHED_FIFO ? p.sched_priority : 0;
                cpu = sched_getcpu();
                tick_thread = std::this_thread::get_id();
            },
            .rate = 100,
            .priority = 20,
            .core = 0});
    EXPECT_TRUE(n.own_thread());
    horus::run({&n}, horus::RunOptions{.duration = 0.1, .rt = geteuid() == 0});
    EXPECT_NE(tick_thread, std::this_thread::get_id());
    if (geteuid() == 0) {
        EXPECT_EQ(policy.load(), 20);
    }
    EXPECT_EQ(cpu.load(), 0);
    int pol = 0;
    sched_param p{};
    pthread_getschedparam(pthread_self(), &pol, &p);
    EXPECT_EQ(pol, SCHED_OTHER);  // the calling thread is left alone
}

TEST(NodeRt, ARefusedPriorityWarnsAndRunsOrWithRtFailsBeforeAnyTick) {
    const int status = horus_test::run_in_child([] {
        if (!drop_rt_rights()) return 10;
        int ticks = 0;
        Node n({.name = "prio", .tick = [&](Node&) { ++ticks; }, .rate = 100, .priority = 50});
        horus::run({&n}, 0.1);  // refused: one warning, the node ticks without it
        if (ticks < 3) return 11;
        int rt_ticks = 0;
        Node m({.name = "prio_rt", .tick = [&](Node&) { ++rt_ticks; }, .rate = 100, .priority = 50});
        try {
            horus::run({&m}, horus::RunOptions{.duration = 0.1, .rt = true});
            return 12;
        } catch (const horus::NodeError& e) {
            if (e.phase() != "rt") return 13;
            if (std::string(e.what()).find("SCHED_FIFO priority 50 refused") == std::string::npos) return 14;
            if (std::string(e.what()).find("RLIMIT_RTPRIO") == std::string::npos) return 15;
        }
        return rt_ticks == 0 ? 0 : 16;
    });
    EXPECT_EQ(status, 0);
}

TEST(NodeRt, ASlowSharedNodeDoesNotDelayANodeInItsOwnThread) {
    int fast = 0;
    Node slow({.name = "slow", .tick = [](Node&) { sleep_ms(40); }, .rate = 10});
    Node quick({.name = "quick", .tick = [&](Node&) { ++fast; }, .rate = 500, .compute = true});
    horus::run({&slow, &quick}, 0.5);
    EXPECT_GE(fast, 200);  // 250 slots; in one thread it would get about 5 per slow tick
    EXPECT_LT(quick.stats().jitter_p50_s(), 0.01);  // its ticks start on time (the count above is the proof)
}

TEST(NodeRt, WatchdogReportsAStuckTickAndWithStopEndsTheRun) {
    Node stuck({.name = "stuck", .tick = [](Node&) { sleep_ms(150); }, .rate = 100, .watchdog = 0.03});
    horus::run({&stuck}, 0.2);
    EXPECT_GE(stuck.stats().watchdog_expired.load(), 1u);
    int ticks = 0;
    Node fast({.name = "fast", .tick = [&](Node&) { ++ticks; }, .rate = 100, .compute = true});
    Node wd({.name = "wd", .tick = [](Node&) { sleep_ms(200); }, .rate = 1, .on_miss = horus::MissPolicy::Stop});
    const auto t0 = std::chrono::steady_clock::now();
    horus::run({&fast, &wd}, horus::RunOptions{.duration = 10.0, .watchdog = 0.05});
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
    EXPECT_EQ(wd.stats().watchdog_expired.load(), 1u);
}

TEST(NodeRt, RequestStopEndsTheRunAndShutdownRuns) {
    int ticks = 0;
    bool shut = false;
    Node n({.name = "once", .tick = [&](Node& self) { if (++ticks == 5) self.request_stop(); }, .rate = 1000,
            .shutdown = [&](Node&) { shut = true; }});
    horus::run({&n}, 10.0);
    EXPECT_EQ(ticks, 5);
    EXPECT_TRUE(shut);
    n.request_stop();  // outside a run: nothing
}

TEST(NodeRt, LogsGoToTheLogTopicWithNodeLevelAndTime) {
    horus::Topic<horus::msg::Log> logs(horus::kLogTopic);
    Node n({.name = "talker", .tick = [](Node& self) {
                self.log_info("hello");
                self.log_error("bad \xff byte");
                self.request_stop();
            }});
    horus::run({&n}, 5.0);
    auto a = logs.try_recv();
    auto b = logs.try_recv();
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->value.name.str(), "talker");
    EXPECT_EQ(a->value.level, 20);
    EXPECT_EQ(a->value.message.str(), "hello");
    EXPECT_EQ(a->value.pid, getpid());
    EXPECT_GT(a->timestamp_ns, 1'600'000'000'000'000'000ull);
    EXPECT_EQ(b->value.level, 40);
    EXPECT_EQ(b->value.message.str(), "bad ? byte");
    horus::publish_log(horus::LogLevel::Info, "x", std::string(5000, 'a'), false);
    auto c = logs.try_recv();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->value.message.str().size(), 1023u);
}

TEST(NodeRt, HasMsgAndRecvAll) {
    horus::Topic<horus::msg::CmdVel> cmd("rt.cmd");
    std::size_t got = 0;
    bool had = false, empty_after = false;
    Node n({.name = "reader", .tick = [&](Node& self) {
                had = self.has_msg("rt.cmd");
                got = self.recv_all<horus::msg::CmdVel>("rt.cmd").size();
                empty_after = !self.has_msg("rt.cmd");
                self.request_stop();
            }, .subs = {"rt.cmd"}});
    for (int i = 0; i < 7; ++i) cmd.send({.linear = static_cast<float>(i), .angular = 0});
    horus::run({&n}, 5.0);
    EXPECT_TRUE(had);
    EXPECT_EQ(got, 7u);
    EXPECT_TRUE(empty_after);
}

TEST(NodeRt, DiscoveryShowsTheNewStatistics) {
    bool seen = false;
    int k = 0;
    Node target({.name = "listed", .tick = [&](Node& self) {
                     if (++k == 1) sleep_ms(30);  // the first tick misses its 20 ms deadline
                     if (k < 40) return;
                     for (const auto& info : horus::discover_nodes())
                         if (info.name == "listed")
                             seen = info.misses >= 1 && info.budget_ns == 20'000'000 &&
                                    info.deadline_ns == 20'000'000 && info.ticks >= 32 && info.jitter_ns_max > 0;
                     self.request_stop();
                 }, .rate = 500, .budget = 0.02});
    horus::run({&target}, 5.0);
    EXPECT_TRUE(seen);
}

TEST(NodeRt, NamesLongerThanDiscoveryKeepsAreRefused) {
    auto tick = [](Node&) {};
    EXPECT_NO_THROW(Node({.name = std::string(63, 'a'), .tick = tick}));
    try {
        Node n({.name = std::string(64, 'a'), .tick = tick});
        FAIL();
    } catch (const horus::InvalidArgument& e) {
        EXPECT_NE(std::string(e.what()).find("(64 bytes) is invalid; expected 1 to 63 bytes"), std::string::npos);
    }
    EXPECT_THROW(Node({.name = "bad\xff", .tick = tick}), horus::InvalidArgument);
    EXPECT_THROW(Node({.name = std::string("a\0b", 3), .tick = tick}), horus::InvalidArgument);
}

TEST(NodeRt, ATinyButValidBudgetIsCheckedNotTurnedOff) {
    Node n({.name = "tiny", .tick = [](Node& self) { if (self.stats().ticks >= 2) self.request_stop(); },
            .rate = 1000, .budget = 1e-10});
    horus::run({&n}, 5.0);
    EXPECT_EQ(n.stats().misses, n.stats().ticks);  // 1 ns: every tick misses
    EXPECT_EQ(n.stats().budget_overruns, n.stats().ticks);
}

TEST(NodeRt, RunsInTwoThreadsAtOnceShareTheSignalHandlers) {
    std::atomic<bool> second_started{false};
    int a = 0, b = 0;
    Node na({.name = "two.a", .tick = [&](Node&) { ++a; }, .rate = 200});
    Node nb({.name = "two.b", .tick = [&](Node&) { ++b; second_started = true; }, .rate = 200});
    std::thread other([&] { horus::run({&nb}, 0.2); });  // ends first
    while (!second_started) std::this_thread::sleep_for(1ms);
    std::thread stopper([] {
        std::this_thread::sleep_for(400ms);
        std::raise(SIGTERM);  // after the other run ended: this run's handler is still installed
    });
    horus::run({&na}, 10.0);
    other.join();
    stopper.join();
    EXPECT_GE(a, 40);
    EXPECT_GE(b, 10);
}

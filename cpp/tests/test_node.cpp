// test_node.cpp — horus::Node and horus::run in real time: validation, rates,
// order, init/shutdown, errors, overruns, signals, topics. The exact schedule
// (tick times, skips, overruns) is checked without sleeping by test_schedule.cpp;
// the timing checks here are smoke tests with bounds the policy implies.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "horus/base/error.hpp"
#include "horus/horus.hpp"

using namespace std::chrono_literals;

namespace {
// The message of the InvalidArgument that `f` throws ("" if it throws none).
template <class F>
std::string invalid_argument_of(F f) {
    try {
        f();
    } catch (const horus::InvalidArgument& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST(Node, ValidatesItsOptions) {
    auto tick = [](horus::Node&) {};
    EXPECT_THROW(horus::Node({.name = "", .tick = tick}), horus::InvalidArgument);
    EXPECT_THROW(horus::Node({.name = "n"}), horus::InvalidArgument);
    horus::Node a({.name = "same", .tick = tick}), b({.name = "same", .tick = tick});
    EXPECT_THROW(horus::run({&a, &b}, 0.1), horus::InvalidArgument);
    EXPECT_NE(invalid_argument_of([&] { horus::run({&a}, -1.0); }).find("duration = -1 s"), std::string::npos);
    EXPECT_NE(invalid_argument_of([&] { horus::run({&a}, std::nan("")); }).find("duration = nan s"), std::string::npos);
}

TEST(Node, RejectsRatesOutsideTheRangeNamingValueAndRange) {
    // 2e9 Hz used to round the period to 0 ns (a division by zero in run()); 1e-10 Hz
    // overflowed the time arithmetic. Accepted: [1e-6, 1e6] Hz, the same as Python.
    const double inf = std::numeric_limits<double>::infinity();
    const std::vector<std::pair<double, std::string>> bad = {
        {2e9, "2e+09"}, {1e-10, "1e-10"}, {1000001, "1000001"}, {9.99e-7, "9.99e-07"},
        {0, "0"},            {-5, "-5"},       {inf, "inf"},         {std::nan(""), "nan"}};
    for (const auto& [rate_value, text] : bad) {
        const double rate = rate_value;  // (clang 14 lambdas cannot capture a structured binding)
        const std::string what = invalid_argument_of([&] { horus::Node({.name = "n", .tick = [](horus::Node&) {}, .rate = rate}); });
        EXPECT_NE(what.find("'n': rate = " + text + " Hz is out of range"), std::string::npos) << what;
        EXPECT_NE(what.find("expected 1e-06 <= rate <= 1e+06 Hz"), std::string::npos) << what;
    }
    horus::Node slowest({.name = "slowest", .tick = [](horus::Node&) {}, .rate = 1e-6});
    horus::Node fastest({.name = "fastest", .tick = [](horus::Node&) {}, .rate = 1e6});
    EXPECT_EQ(slowest.period_ns(), 1'000'000'000'000'000);
    EXPECT_EQ(fastest.period_ns(), 1000);
    EXPECT_DOUBLE_EQ(fastest.period(), 1e-6);
}

TEST(Node, InfiniteOrHugeDurationRunsUntilStopped) {
    // now() + 1e300 s used to overflow (the run ended at once); inf and >= 1e9 s mean forever.
    for (double duration : {std::numeric_limits<double>::infinity(), 1e300, 1e9}) {
        int ticks = 0;
        horus::Node n({.name = "forever", .tick = [&](horus::Node&) {
                           if (++ticks == 3) std::raise(SIGTERM);
                       },
                       .rate = 1000});
        horus::run({&n}, duration);
        EXPECT_EQ(ticks, 3) << "duration " << duration;
        EXPECT_EQ(n.stats().ticks, 3u);
    }
}

TEST(Node, RunTicksAtRatesInOrderWithInitAndShutdown) {
    std::vector<std::string> log;
    int fast_ticks = 0, slow_ticks = 0;
    horus::Node slow({.name = "slow",
                      .tick = [&](horus::Node&) { ++slow_ticks; log.push_back("slow"); },
                      .rate = 20,
                      .order = 1,
                      .init = [&](horus::Node& n) { log.push_back("init " + n.name()); },
                      .shutdown = [&](horus::Node& n) { log.push_back("shutdown " + n.name()); }});
    horus::Node fast({.name = "fast",
                      .tick = [&](horus::Node&) { ++fast_ticks; log.push_back("fast"); },
                      .rate = 100,
                      .order = 0});
    horus::run({&slow, &fast}, 0.5);
    // Each slot of the grid ticks at most once and the last one before 0.5 s is at
    // 490 ms / 450 ms: at most 50 and 10 ticks; the lower bounds allow a loaded machine.
    EXPECT_GE(fast_ticks, 35);
    EXPECT_LE(fast_ticks, 50);
    EXPECT_GE(slow_ticks, 7);
    EXPECT_LE(slow_ticks, 10);
    ASSERT_GE(log.size(), 3u);
    EXPECT_EQ(log.front(), "init slow");
    EXPECT_EQ(log[1], "fast");  // first round: order 0 before order 1
    EXPECT_EQ(log[2], "slow");
    EXPECT_EQ(log.back(), "shutdown slow");
    EXPECT_EQ(fast.stats().ticks, static_cast<uint64_t>(fast_ticks));
}

TEST(Node, TickExceptionStopsTheRunNamesTheNodeAndStillShutsDown) {
    bool shut = false;
    horus::Node bad({.name = "bad",
                     .tick = [](horus::Node&) { throw std::runtime_error("sensor unplugged"); },
                     .shutdown = [&](horus::Node&) { shut = true; }});
    try {
        horus::run({&bad}, 5.0);
        FAIL() << "run() should have thrown";
    } catch (const horus::NodeError& e) {
        EXPECT_EQ(e.node(), "bad");
        EXPECT_NE(std::string(e.what()).find("sensor unplugged"), std::string::npos);
    }
    EXPECT_TRUE(shut);
}

TEST(Node, SlowTickSkipsMissedSlotsWithoutBurstOrDrift) {
    // 100 Hz; the first tick takes 55 ms. The skip rule resumes at the 60 ms slot;
    // catching up would tick ~5 times back to back at 55 ms.
    using clock = std::chrono::steady_clock;
    std::vector<clock::time_point> at;
    horus::Node n({.name = "sleepy",
                   .tick = [&](horus::Node&) {
                       at.push_back(clock::now());
                       if (at.size() == 1) std::this_thread::sleep_for(55ms);
                   },
                   .rate = 100});
    const auto t0 = clock::now();
    horus::run({&n}, 0.3);
    EXPECT_LT(clock::now() - t0, 600ms);
    ASSERT_GE(at.size(), 10u);
    EXPECT_GE(n.stats().overruns, 1u);
    EXPECT_GE(n.stats().max_tick_s, 0.055);
    // Slots 60 .. 290 ms after the slow one: at most 1 + 24 ticks (catch-up: 30).
    EXPECT_LE(at.size(), 25u);
    int bunched = 0;  // consecutive ticks < 2 ms apart (one may happen right after the slow tick)
    for (std::size_t i = 1; i < at.size(); ++i) bunched += at[i] - at[i - 1] < 2ms;
    EXPECT_LE(bunched, 1);
    // No drift: the ticks after the slow one still start on the 10 ms grid of the first.
    std::vector<int64_t> phase_us;
    for (std::size_t i = 1; i < at.size(); ++i)
        phase_us.push_back(std::chrono::duration_cast<std::chrono::microseconds>(at[i] - at[0]).count() % 10'000);
    std::nth_element(phase_us.begin(), phase_us.begin() + phase_us.size() / 2, phase_us.end());
    EXPECT_LT(phase_us[phase_us.size() / 2], 3'000) << "median phase vs the grid, us";
}

TEST(Node, SigtermStopsTheRunCleanly) {
    bool shut = false;
    horus::Node n({.name = "forever", .tick = [](horus::Node&) {}, .rate = 100,
                   .shutdown = [&](horus::Node&) { shut = true; }});
    std::thread killer([] {
        std::this_thread::sleep_for(100ms);
        std::raise(SIGTERM);
    });
    const auto t0 = std::chrono::steady_clock::now();
    horus::run({&n});
    killer.join();
    EXPECT_TRUE(shut);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST(Node, SendsAndReceivesThroughNamedTopics) {
    horus::Node n({.name = "io", .tick = [](horus::Node&) {}, .subs = {"n.in"}, .pubs = {"n.out"}});
    horus::Topic<horus::Image> in("n.in"), out("n.out");
    horus::Image img(4, 4, horus::Encoding::Mono8);
    in.send(img);
    auto got = n.recv<horus::Image>("n.in");
    ASSERT_TRUE(got);
    EXPECT_EQ(got->data(), img.data());
    horus::Image again(4, 4, horus::Encoding::Mono8);
    in.send(again);
    EXPECT_THROW(n.recv<horus::PointCloud>("n.in"), horus::TypeMismatch);  // it carries Images
    horus::Image reply(2, 2, horus::Encoding::Mono8);
    n.send("n.out", reply);
    EXPECT_TRUE(out.try_recv());
    horus::Image other(2, 2, horus::Encoding::Mono8);
    n.send("n.undeclared", other);  // opened on first use
}

// test_node.cpp — horus::Node and horus::run: rates, order, init/shutdown, errors, topics.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "horus/base/error.hpp"
#include "horus/horus.hpp"

using namespace std::chrono_literals;

TEST(Node, ValidatesItsOptions) {
    auto tick = [](horus::Node&) {};
    EXPECT_THROW(horus::Node({.name = "", .tick = tick}), horus::InvalidArgument);
    EXPECT_THROW(horus::Node({.name = "n"}), horus::InvalidArgument);
    EXPECT_THROW(horus::Node({.name = "n", .tick = tick, .rate = 0}), horus::InvalidArgument);
    EXPECT_THROW(horus::Node({.name = "n", .tick = tick, .rate = -5}), horus::InvalidArgument);
    EXPECT_THROW(horus::Node({.name = "n", .tick = tick, .rate = std::nan("")}), horus::InvalidArgument);
    horus::Node a({.name = "same", .tick = tick}), b({.name = "same", .tick = tick});
    EXPECT_THROW(horus::run({&a, &b}, 0.1), horus::InvalidArgument);
    EXPECT_THROW(horus::run({&a}, -1.0), horus::InvalidArgument);
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
    EXPECT_GE(fast_ticks, 35);
    EXPECT_LE(fast_ticks, 55);
    EXPECT_GE(slow_ticks, 7);
    EXPECT_LE(slow_ticks, 12);
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

TEST(Node, SlowTicksCountOverrunsWithoutDrifting) {
    horus::Node slow({.name = "sleepy",
                      .tick = [](horus::Node&) { std::this_thread::sleep_for(30ms); },
                      .rate = 50});
    const auto t0 = std::chrono::steady_clock::now();
    horus::run({&slow}, 0.3);
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_GT(slow.stats().overruns, 3u);
    EXPECT_LT(took, 600ms);  // no catch-up burst after the duration
    EXPECT_LE(slow.stats().ticks, 12u);
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

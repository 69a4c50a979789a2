// test_discovery.cpp — discover_topics() and discover_nodes() (topic_discovery.hpp,
// node_registry.hpp): what a topic carries and who uses it, running C++ nodes with their
// statistics, the endpoint table's limit, fork (a child never removes its parent's
// entries) and a killed process's entries (hidden at once, freed by reclamation).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <thread>
#include <unistd.h>

#include "horus/horus.hpp"
#include "horus/session/session.hpp"
#include "test_util.hpp"

using horus_test::fork_child;
using horus_test::wait_child;

namespace {

std::optional<horus::TopicInfo> topic(const std::string& name) {
    horus::TopicInfo info;
    if (!horus::discover_topic(name, info)) return std::nullopt;
    return info;
}

std::optional<horus::NodeInfo> node(const std::string& name) {
    for (auto& n : horus::discover_nodes())
        if (n.name == name) return n;
    return std::nullopt;
}

std::size_t publishers(const horus::TopicInfo& t) {
    return static_cast<std::size_t>(std::count_if(t.endpoints.begin(), t.endpoints.end(),
                                                  [](const auto& e) { return e.publishes; }));
}

}  // namespace

TEST(Discovery, ATopicShowsItsTypeCountsAndEndpoints) {
    horus::Topic<horus::msg::CmdVel> pub("d.cmd"), sub("d.cmd");
    auto t = topic("d.cmd");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->kind, static_cast<uint32_t>(horus::MessageKind::Record));
    EXPECT_EQ(t->type_name, "CmdVel");
    EXPECT_EQ(t->type_hash, horus::msg::CmdVel::layout_hash());
    EXPECT_EQ(t->messages, 0u);
    EXPECT_EQ(t->last_send_ns, 0);
    EXPECT_EQ(t->processes, 1u);
    ASSERT_EQ(t->endpoints.size(), 2u);
    EXPECT_FALSE(t->endpoints[0].publishes || t->endpoints[0].subscribes);  // nothing done yet
    pub.send(horus::msg::CmdVel{1.0f, 2.0f});
    ASSERT_TRUE(sub.try_recv());
    t = topic("d.cmd");
    EXPECT_EQ(t->messages, 1u);
    EXPECT_GT(t->last_send_ns, 0);
    EXPECT_EQ(publishers(*t), 1u);
    EXPECT_TRUE(t->endpoints[1].subscribes && !t->endpoints[1].publishes);
    EXPECT_EQ(t->endpoints[0].pid, getpid());
    const auto all = horus::discover_topics();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].name, "d.cmd");
    EXPECT_FALSE(topic("d.none"));
    EXPECT_THROW(topic("bad name"), horus::InvalidArgument);
}

TEST(Discovery, TheEndpointTableIsBoundedAndFreedEntriesAreReused) {
    std::vector<horus::Topic<horus::Image>> many;
    for (uint32_t i = 0; i < horus::topic_layout::kMaxEndpoints + 5; ++i) many.emplace_back("d.many");
    for (auto& t : many) {
        horus::Image img(2, 2, horus::Encoding::Mono8);
        t.send(img);  // an unlisted endpoint works as usual
    }
    EXPECT_EQ(topic("d.many")->endpoints.size(), horus::topic_layout::kMaxEndpoints);
    many.erase(many.begin(), many.begin() + 10);
    EXPECT_EQ(topic("d.many")->endpoints.size(), horus::topic_layout::kMaxEndpoints - 10);
    many.emplace_back("d.many");
    EXPECT_EQ(topic("d.many")->endpoints.size(), horus::topic_layout::kMaxEndpoints - 9);
}

TEST(Discovery, ACppNodeIsListedWhileItRuns) {
    std::atomic<bool> checked{false};
    std::optional<horus::NodeInfo> seen;
    std::optional<horus::TopicInfo> out;
    horus::Node n({.name = "cpp_node",
                   .tick = [&](horus::Node& self) {
                       self.send("d.out", horus::msg::CmdVel{0.5f, 0.0f});
                       if (self.stats().ticks == 5) {
                           seen = node("cpp_node");
                           out = topic("d.out");
                           checked = true;
                       }
                   },
                   .rate = 500,
                   .order = 7,
                   .subs = {"d.in"},
                   .pubs = {"d.out"}});
    EXPECT_FALSE(node("cpp_node"));
    horus::run({&n}, 0.1);
    ASSERT_TRUE(checked.load());
    ASSERT_TRUE(seen);
    EXPECT_EQ(seen->language, horus::node_registry_layout::Language::Cpp);
    EXPECT_EQ(seen->pid, getpid());
    EXPECT_EQ(seen->rate_hz, 500.0);
    EXPECT_EQ(seen->order, 7);
    EXPECT_EQ(seen->subs, std::vector<std::string>{"d.in"});
    EXPECT_EQ(seen->pubs, std::vector<std::string>{"d.out"});
    EXPECT_EQ(seen->ticks, 5u);  // counted after each tick: the sixth is running
    EXPECT_GE(seen->tick_ns_max * 5, seen->tick_ns_total);
    ASSERT_TRUE(out);
    ASSERT_EQ(out->endpoints.size(), 1u);
    EXPECT_EQ(out->endpoints[0].node, "cpp_node");
    EXPECT_TRUE(out->endpoints[0].publishes);
    auto in = topic("d.in");
    ASSERT_TRUE(in && in->endpoints.size() == 1);
    EXPECT_TRUE(in->endpoints[0].subscribes && !in->endpoints[0].publishes);  // declared, never read
    EXPECT_FALSE(node("cpp_node"));
}

TEST(Discovery, AForkedChildNeverRemovesItsParentsEntries) {
    horus::Topic<horus::msg::CmdVel> t("d.fork");
    t.send(horus::msg::CmdVel{});
    horus::NodeRegistration reg(horus::NodeDescription{"parent_node"});
    const int pid = fork_child([&] {
        {
            horus::NodeRegistration moved = std::move(reg);  // destroyed in the child
            horus::Topic<horus::msg::CmdVel> gone = std::move(t);
        }
        return 0;
    });
    ASSERT_EQ(wait_child(pid), 0);
    ASSERT_TRUE(node("parent_node"));
    auto info = topic("d.fork");
    ASSERT_TRUE(info);
    EXPECT_EQ(info->endpoints.size(), 1u);
    EXPECT_EQ(info->endpoints[0].pid, getpid());
}

TEST(Discovery, AKilledProcessesEntriesVanishAndReclamationFreesThem) {
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    const int pid = fork_child([&] {
        horus::Topic<horus::msg::CmdVel> t("d.killed");
        t.send(horus::msg::CmdVel{});
        horus::NodeRegistration reg(horus::NodeDescription{"doomed"});
        const char c = 'x';
        if (write(ready[1], &c, 1) != 1) return 1;
        pause();
        return 0;
    });
    char c = 0;
    ASSERT_EQ(read(ready[0], &c, 1), 1);
    close(ready[0]);
    close(ready[1]);
    EXPECT_TRUE(node("doomed"));
    EXPECT_TRUE(topic("d.killed"));
    kill(pid, SIGKILL);
    wait_child(pid);
    EXPECT_FALSE(node("doomed"));       // hidden at once: its process is not live
    EXPECT_FALSE(topic("d.killed"));
    horus::Session::instance().reclaim();
    EXPECT_FALSE(node("doomed"));
    EXPECT_TRUE(horus::discover_topics().empty());
}

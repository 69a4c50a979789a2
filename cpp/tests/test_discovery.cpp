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
#include "horus/topic/topic_endpoint.hpp"
#include "horus/topic/topic_ring.hpp"
#include "horus/topic/layout_registry.hpp"
#include "horus/session/namespace_name.hpp"
#include <cstdio>
#include "horus/session/session.hpp"
#include "test_util.hpp"

using horus_test::fork_child;
using horus_test::wait_child;

namespace disc_test {
HORUS_MESSAGE(Cell, (float, volts), (horus::msg::Point, where));
HORUS_MESSAGE(Pack, (uint8_t, id), (Cell, first), (Cell, spare));
}  // namespace disc_test

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
    ASSERT_EQ(t->endpoints.size(), 1u);  // one process, no node: one entry for both objects
    EXPECT_EQ(t->endpoints[0].topics, 2u);
    EXPECT_FALSE(t->endpoints[0].publishes || t->endpoints[0].subscribes);  // nothing done yet
    EXPECT_TRUE(t->complete);
    pub.send(horus::msg::CmdVel{1.0f, 2.0f});
    ASSERT_TRUE(sub.try_recv());
    t = topic("d.cmd");
    EXPECT_EQ(t->messages, 1u);
    EXPECT_GT(t->last_send_ns, 0);
    EXPECT_EQ(publishers(*t), 1u);
    EXPECT_TRUE(t->endpoints[0].subscribes && t->endpoints[0].publishes);
    EXPECT_EQ(t->endpoints[0].pid, getpid());
    const auto all = horus::discover_topics();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].name, "d.cmd");
    EXPECT_FALSE(topic("d.none"));
    EXPECT_THROW(topic("bad name"), horus::InvalidArgument);
}

TEST(Discovery, TopicObjectsOfOneProcessAndNodeShareAnEntryWithTheirCount) {
    std::vector<horus::Topic<horus::Image>> many;
    for (int i = 0; i < 200; ++i) many.emplace_back("d.many");
    auto t = topic("d.many");
    ASSERT_EQ(t->endpoints.size(), 1u);
    EXPECT_EQ(t->endpoints[0].topics, 200u);
    EXPECT_FALSE(t->endpoints[0].publishes);
    horus::Image img(2, 2, horus::Encoding::Mono8);
    many.back().send(img);  // the last of 200 publishes: the entry says so
    t = topic("d.many");
    EXPECT_TRUE(t->endpoints[0].publishes);
    many.erase(many.begin(), many.begin() + 150);
    EXPECT_EQ(topic("d.many")->endpoints[0].topics, 50u);
}

TEST(Discovery, TheEndpointTableIsBoundedAndFreedEntriesAreReused) {
    auto ring = horus::TopicRing::open("d.nodes", 0, std::nullopt);
    std::vector<horus::TopicEndpoint> many;
    const uint32_t max = horus::topic_layout::kMaxEndpoints;
    for (uint32_t i = 0; i < max + 5; ++i) many.emplace_back(ring, "node" + std::to_string(i), 0);
    EXPECT_EQ(topic("d.nodes")->endpoints.size(), max);  // the last 5 work, unlisted
    many.erase(many.begin(), many.begin() + 10);
    EXPECT_EQ(topic("d.nodes")->endpoints.size(), max - 10);
    many.emplace_back(ring, "late", horus::topic_layout::kPublishes);
    const auto t = topic("d.nodes");
    EXPECT_EQ(t->endpoints.size(), max - 9);
    EXPECT_TRUE(std::any_of(t->endpoints.begin(), t->endpoints.end(),
                            [](const auto& e) { return e.node == "late" && e.publishes; }));
}

TEST(Discovery, NodeNamesAreUtf8TruncatedAtACharacterBoundary) {
    auto ring = horus::TopicRing::open("d.utf8", 0, std::nullopt);
    const std::string umlauts(40, 'x');
    horus::TopicEndpoint a(ring, "kamera_\u00fc", 0);
    horus::TopicEndpoint b(ring, umlauts + "\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc", 0);
    std::vector<std::string> names;
    const auto t = topic("d.utf8");
    for (const auto& e : t->endpoints) names.push_back(e.node);
    ASSERT_EQ(names.size(), 2u);
    EXPECT_EQ(names[0], "kamera_\u00fc");
    // 63 bytes hold 40 + 11 two-byte characters (62 bytes): never half of one
    EXPECT_EQ(names[1], umlauts + "\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc");
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

TEST(LayoutRegistry, ATypedTopicPublishesItsTypeAndEveryNestedType) {
    EXPECT_FALSE(horus::read_layout_bundle(disc_test::Pack::layout_hash()));
    horus::Topic<disc_test::Pack> t("d.pack");
    const auto bundle = horus::read_layout_bundle(disc_test::Pack::layout_hash());
    ASSERT_TRUE(bundle);
    const std::vector<std::string> expected = {disc_test::Pack::horus_layout().text(),
                                               disc_test::Cell::horus_layout().text(),
                                               horus::msg::Point::horus_layout().text()};
    EXPECT_EQ(*bundle, expected);  // depth first, each type once (Cell appears twice in Pack)
    EXPECT_EQ(horus::layout_bundle(disc_test::Pack::horus_layout()), expected);
}

TEST(LayoutRegistry, ACorruptOrForeignBundleIsNotRead) {
    horus::Topic<disc_test::Cell> t("d.cell");
    const std::string path = "/dev/shm/horus." + horus::shm_namespace() + ".layout." +
                             horus::hash_hex(disc_test::Cell::layout_hash()).substr(2);
    FILE* f = std::fopen(path.c_str(), "r+b");
    ASSERT_TRUE(f);
    std::fseek(f, 40, SEEK_SET);  // into the text
    std::fputc(0x01, f);         // a control character: never canonical text
    std::fclose(f);
    EXPECT_FALSE(horus::read_layout_bundle(disc_test::Cell::layout_hash()));
    ASSERT_EQ(chown(path.c_str(), 65534, 65534), 0);  // another user's object: never trusted
    EXPECT_FALSE(horus::read_layout_bundle(disc_test::Cell::layout_hash()));
}

// test_topic_release.cpp — early release: a message goes back to the pool once every
// subscribing Topic has read it (topic_endpoint.hpp, topic_layout.hpp), and only then.
#include <gtest/gtest.h>

#include <csignal>
#include <cstring>
#include <memory>
#include <set>
#include <unistd.h>
#include <vector>

#include "horus/horus.hpp"
#include "horus/topic/topic_layout.hpp"
#include "test_util.hpp"

using horus::Encoding;
using horus::Image;
using horus::Topic;

namespace {

void send_image(Topic<Image>& t, uint64_t stamp, long w = 32, long h = 16) {
    Image img(h, w, Encoding::Rgb8);
    std::memset(img.mutable_data(), static_cast<int>(stamp & 0xFF), img.nbytes());
    img.set_timestamp_ns(stamp);
    t.send(img);  // img (our handle) is dropped on return: only the ring keeps it
}

uint64_t blocks_in_use() { return horus::Pool::instance().stats().blocks_in_use; }

std::vector<uint64_t> drain(Topic<Image>& t) {
    std::vector<uint64_t> got;
    while (auto m = t.try_recv()) {
        EXPECT_EQ(static_cast<uint8_t>(m->bytes()[0]), static_cast<uint8_t>(m->timestamp_ns() & 0xFF));
        got.push_back(m->timestamp_ns());
    }
    return got;
}

}  // namespace

TEST(TopicRelease, ReadMessagesGoBackToThePoolAtTheNextSend) {
    const uint64_t base = blocks_in_use();
    Topic<Image> sub("r.read", 8);
    Topic<Image> pub("r.read");
    for (uint64_t i = 0; i < 5; ++i) send_image(pub, i);
    EXPECT_EQ(blocks_in_use(), base + 5);  // unread by sub: all kept
    EXPECT_EQ(drain(sub), (std::vector<uint64_t>{0, 1, 2, 3, 4}));
    EXPECT_EQ(blocks_in_use(), base + 5);  // released by the next send, not by reading
    send_image(pub, 5);
    EXPECT_EQ(blocks_in_use(), base + 1);  // only the unread newest one is left
    EXPECT_EQ(drain(sub), (std::vector<uint64_t>{5}));
    EXPECT_EQ(sub.dropped(), 0u);
}

TEST(TopicRelease, APublishOnlyTopicKeepsOnlyTheNewestMessage) {
    const uint64_t base = blocks_in_use();
    Topic<Image> pub("r.pubonly", 8);
    for (uint64_t i = 0; i < 5; ++i) send_image(pub, i);
    EXPECT_EQ(blocks_in_use(), base + 1);
}

TEST(TopicRelease, OneTopicThatSendsAndReceivesLosesNothing) {
    // The spec's ML pipeline: one Topic object, a camera tick sends, a model tick receives.
    Topic<Image> t("r.loop", 8);
    send_image(t, 0);
    EXPECT_EQ(drain(t), std::vector<uint64_t>{0});  // the newest message is always kept
    for (uint64_t i = 1; i < 4; ++i) send_image(t, i);  // a reader now: it keeps them all
    EXPECT_EQ(drain(t), (std::vector<uint64_t>{1, 2, 3}));
    EXPECT_EQ(t.dropped(), 0u);
}

TEST(TopicRelease, APublisherThatStartsReadingCountsWhatWasRecycled) {
    Topic<Image> t("r.late", 8);
    for (uint64_t i = 0; i < 3; ++i) send_image(t, i);  // a publisher: keeps only the newest
    const std::vector<uint64_t> got = drain(t);
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got.back(), 2u);
    EXPECT_EQ(got.size() + t.dropped(), 3u);  // every message delivered or counted
    EXPECT_GE(t.dropped(), 1u);
}

TEST(TopicRelease, ASlowSubscriberKeepsWhatItHasNotRead) {
    const uint64_t base = blocks_in_use();
    Topic<Image> fast("r.slow", 8), slow("r.slow");
    Topic<Image> pub("r.slow");
    for (uint64_t i = 0; i < 4; ++i) send_image(pub, i);
    EXPECT_EQ(drain(fast).size(), 4u);
    send_image(pub, 4);
    EXPECT_EQ(blocks_in_use(), base + 5);  // slow has read none
    ASSERT_TRUE(slow.try_recv());
    ASSERT_TRUE(slow.try_recv());
    send_image(pub, 5);
    EXPECT_EQ(blocks_in_use(), base + 4);  // 2..5: slow has not read them
    EXPECT_EQ(drain(slow), (std::vector<uint64_t>{2, 3, 4, 5}));
    EXPECT_EQ(slow.dropped(), 0u);
    EXPECT_EQ(drain(fast), (std::vector<uint64_t>{4, 5}));
}

TEST(TopicRelease, ASubscriberThatFallsBehindStillCountsItsLoss) {
    const uint64_t base = blocks_in_use();
    Topic<Image> sub("r.behind", 4);
    Topic<Image> pub("r.behind");
    for (uint64_t i = 0; i < 10; ++i) send_image(pub, i);
    EXPECT_EQ(blocks_in_use(), base + 4);  // the ring's capacity still bounds what is kept
    EXPECT_EQ(drain(sub), (std::vector<uint64_t>{6, 7, 8, 9}));
    EXPECT_EQ(sub.dropped(), 6u);
}

TEST(TopicRelease, ThePublisherReusesTheSameWarmBlocks) {
    // What makes big messages fast: a ping-pong recycles two blocks instead of
    // walking through `capacity` of them (which are cold in cache and TLB).
    Topic<Image> sub("r.warm", 8);
    Topic<Image> pub("r.warm");
    std::set<uint64_t> blocks;
    for (uint64_t i = 0; i < 50; ++i) {
        send_image(pub, i, 640, 480);
        auto m = sub.try_recv();
        ASSERT_TRUE(m);
        ASSERT_EQ(m->timestamp_ns(), i);
        const auto r = m->block().ref();
        blocks.insert((uint64_t{r.segment} << 32) | r.index);
    }
    EXPECT_LE(blocks.size(), 3u);
    EXPECT_EQ(sub.dropped(), 0u);
}

TEST(TopicRelease, AFullSubscriberTableTurnsEarlyReleaseOff) {
    const uint64_t base = blocks_in_use();
    Topic<Image> pub("r.full", 16);
    send_image(pub, 0);  // pub is now a publisher (no entry); message 0 is kept as the newest
    Topic<Image> reader("r.full");
    std::vector<std::unique_ptr<Topic<Image>>> fillers;
    for (uint32_t i = 1; i < horus::topic_layout::kMaxSubscribers; ++i)
        fillers.push_back(std::make_unique<Topic<Image>>("r.full"));
    auto overflow = std::make_unique<Topic<Image>>("r.full");  // no entry left for it
    fillers.clear();
    for (uint64_t i = 1; i <= 3; ++i) send_image(pub, i);
    EXPECT_EQ(drain(reader).size(), 3u);
    send_image(pub, 4);
    EXPECT_EQ(blocks_in_use(), base + 5);  // overflow has read nothing and cannot be seen: all kept
    EXPECT_EQ(drain(*overflow), (std::vector<uint64_t>{1, 2, 3, 4}));
    overflow.reset();
    send_image(pub, 5);
    EXPECT_EQ(blocks_in_use(), base + 2);  // early release again: 4 (unread by reader) and 5
}

TEST(TopicRelease, ADeadSubscriberStopsHoldingMessagesOnceReclaimed) {
    const uint64_t base = blocks_in_use();
    Topic<Image> pub("r.dead", 8);
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    const int pid = horus_test::fork_child([&] {
        Topic<Image> sub("r.dead");
        char c = 1;
        if (!horus_test::write_all(ready[1], &c, 1)) return 1;
        pause();  // killed while subscribed
        return 0;
    });
    char c = 0;
    ASSERT_TRUE(horus_test::read_all(ready[0], &c, 1));
    close(ready[0]);
    close(ready[1]);
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    EXPECT_EQ(horus_test::wait_child(pid), -SIGKILL);
    for (uint64_t i = 0; i < 5; ++i) send_image(pub, i);
    EXPECT_EQ(blocks_in_use(), base + 5);  // the dead subscriber's entry still holds them
    horus::Pool::instance().reclaim_dead_processes();
    send_image(pub, 5);
    EXPECT_EQ(blocks_in_use(), base + 1);
}

TEST(TopicRelease, ReclaimCountsOnlySlotsThatStillHoldTheirBlock) {
    // A slot released early still names its old block; the block may already carry
    // another message. Reconciling ring counts must not count the released slot.
    Topic<Image> sub_a("r.rec.a", 8);
    Topic<Image> pub_a("r.rec.a");
    Topic<Image> sub_b("r.rec.b", 8);
    Topic<Image> pub_b("r.rec.b");
    send_image(pub_a, 0);
    EXPECT_EQ(drain(sub_a).size(), 1u);
    send_image(pub_a, 1);  // releases message 0: its block is free
    send_image(pub_b, 7);  // most likely reuses that block
    const uint64_t in_use = blocks_in_use();
    horus::Pool::instance().reclaim_dead_processes();  // reconciles every ring count
    EXPECT_EQ(blocks_in_use(), in_use);
    EXPECT_EQ(drain(sub_b), std::vector<uint64_t>{7});
    EXPECT_EQ(drain(sub_a), std::vector<uint64_t>{1});
    EXPECT_EQ(sub_a.dropped() + sub_b.dropped(), 0u);
}

TEST(TopicRelease, ASubscriberInAnotherProcessReleasesWhatItRead) {
    const uint64_t base = blocks_in_use();
    Topic<Image> pub("r.xproc", 8);
    int ready[2], done[2];
    ASSERT_EQ(pipe(ready), 0);
    ASSERT_EQ(pipe(done), 0);
    const int pid = horus_test::fork_child([&] {
        Topic<Image> sub("r.xproc");
        char c = 1;
        if (!horus_test::write_all(ready[1], &c, 1)) return 1;
        int got = 0;
        for (int spins = 0; got < 6 && spins < 1000000; ++spins)
            if (sub.try_recv()) ++got; else usleep(10);
        if (!horus_test::write_all(done[1], &c, 1)) return 2;
        if (!horus_test::read_all(ready[0], &c, 1)) return 3;  // stay subscribed until told
        return got == 6 ? 0 : 4;
    });
    char c = 0;
    ASSERT_TRUE(horus_test::read_all(ready[0], &c, 1));
    for (uint64_t i = 0; i < 6; ++i) send_image(pub, i);
    ASSERT_TRUE(horus_test::read_all(done[0], &c, 1));  // the child has read all 6
    send_image(pub, 6);
    EXPECT_EQ(blocks_in_use(), base + 1);
    ASSERT_TRUE(horus_test::write_all(ready[1], &c, 1));
    EXPECT_EQ(horus_test::wait_child(pid), 0);
    for (int fd : {ready[0], ready[1], done[0], done[1]}) close(fd);
}

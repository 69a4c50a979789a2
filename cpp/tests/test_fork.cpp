// test_fork.cpp — fork() is safe both ways (issue 10, defect 6): the child holds what it
// inherited from the moment of the fork (the parent may free and reuse at full speed),
// a child cannot remove its parent from a topic, and a child forked past the slot
// limit gets a clear error instead of silently dropping every message.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <unistd.h>
#include <vector>

#include "horus/base/error.hpp"
#include "horus/msg/image.hpp"
#include "horus/msg/tensor.hpp"
#include "horus/pool/pool.hpp"
#include "horus/session/session.hpp"
#include "horus/topic/topic.hpp"
#include "test_util.hpp"

using namespace horus;
using namespace std::chrono_literals;
using horus_test::fork_child;
using horus_test::read_all;
using horus_test::wait_child;
using horus_test::write_all;

// The parent allocates, fills and frees blocks of one size class on another thread
// while it forks; right after each fork it drops the message the child inherited.
// The child must see that message's pixels unchanged for a while: its slot held the
// block before the fork, so the parent's churn can never reuse it.
TEST(Fork, InheritedMessagesSurviveTheParentRecyclingAtFullSpeed) {
    Pool::instance();
    std::atomic<bool> stop{false};
    std::thread churn([&] {
        while (!stop.load()) {
            Image tmp(64, 64, Encoding::Mono8);
            try {
                std::memset(tmp.mutable_data(), 0xEE, tmp.nbytes());
            } catch (const ReadOnlyError&) {
                // a fork happened between allocation and the write: tmp is shared now
            }
        }
    });
    for (int round = 0; round < 20; ++round) {
        auto msg = std::make_unique<Image>(64, 64, Encoding::Mono8);
        std::memset(msg->mutable_data(), round + 1, msg->nbytes());
        const int pid = fork_child([&] {
            // The churn thread does not exist here; the parent keeps churning.
            const auto until = std::chrono::steady_clock::now() + 30ms;
            while (std::chrono::steady_clock::now() < until)
                for (std::size_t k = 0; k < msg->nbytes(); ++k)
                    if (static_cast<int>(msg->data()[k]) != round + 1) return 20;
            if (!msg->is_shared()) return 21;  // parent and child share it: read-only
            return 0;
        });
        msg.reset();  // the parent lets go at once and churns on
        ASSERT_EQ(wait_child(pid), 0) << "round " << round << ": the child's inherited pixels changed";
    }
    stop = true;
    churn.join();
}

TEST(Fork, BothSidesSeeInheritedMessagesReadOnly) {
    Image img(4, 4, Encoding::Mono8);
    Image alias = img;
    EXPECT_FALSE(img.is_shared());
    const int pid = fork_child([&] { return img.is_shared() && alias.is_shared() ? 0 : 1; });
    EXPECT_EQ(wait_child(pid), 0);
    EXPECT_TRUE(img.is_shared()) << "after fork the payload is shared with the child";
    EXPECT_THROW(img.mutable_data(), ReadOnlyError);
    Image mine = img.copy();
    EXPECT_FALSE(mine.is_shared());
}

// Before: a child that opened any topic reset the per-process registry, and dropping
// the Topic it inherited then cleared the parent's user entry and unlinked the live topic.
TEST(Fork, AChildDroppingItsInheritedTopicLeavesTheParentsTopicAlive) {
    auto topic = std::make_unique<Topic<Image>>("fork.alive");
    const int pid = fork_child([&] {
        Topic<Tensor> other("fork.other");  // the child opens a topic of its own
        topic.reset();                      // and drops the one it inherited
        return 0;
    });
    ASSERT_EQ(wait_child(pid), 0);
    // A new subscriber (another process) must still hear the parent.
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const int sub = fork_child([&] {
        Topic<Image> t("fork.alive");
        const char c = 'r';
        write_all(ready[1], &c, 1);
        auto m = t.recv(5s);
        return m && m->width() == 7 ? 0 : 1;
    });
    char c;
    ASSERT_TRUE(read_all(ready[0], &c, 1));
    Image img(3, 7, Encoding::Mono8);
    topic->send(img);
    EXPECT_EQ(wait_child(sub), 0) << "the topic was torn down by the child";
    ::close(ready[0]);
    ::close(ready[1]);
}

// A child forked while all 40 slots are taken has no slot: receiving raises NotAttached
// naming the limit (before: every message was silently counted as dropped).
TEST(Fork, AChildPastTheSlotLimitGetsAClearError) {
    Pool::instance();
    Topic<Image> topic("fork.limit");
    int release[2];
    ASSERT_EQ(::pipe(release), 0);
    std::vector<int> holders;
    while (Session::instance().live_processes() < session_layout::kMaxProcesses) {
        const int before = static_cast<int>(Session::instance().live_processes());
        holders.push_back(fork_child([&] {
            char c;
            ::close(release[1]);
            read_all(release[0], &c, 1);
            return 0;
        }));
        for (int i = 0; i < 200 && static_cast<int>(Session::instance().live_processes()) == before; ++i)
            std::this_thread::sleep_for(1ms);
        ASSERT_LT(holders.size(), 64u);
    }
    Image waiting(2, 2, Encoding::Mono8);
    topic.send(waiting);
    const int pid = fork_child([&] {
        if (Session::instance().attached()) return 30;
        try {
            topic.try_recv();
            return 31;
        } catch (const NotAttached& e) {
            return std::string(e.what()).find("all 40 process slots") != std::string::npos ? 0 : 32;
        }
    });
    EXPECT_EQ(wait_child(pid), 0);
    ::close(release[1]);
    for (int h : holders) EXPECT_EQ(wait_child(h), 0);
    ::close(release[0]);
}

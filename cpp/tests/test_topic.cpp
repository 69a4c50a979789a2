// test_topic.cpp — Topic<T> / TopicRing: delivery, sharing, loss counting, types,
// blocking receive, cleanup, cross-process delivery and a multi-threaded stress run.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <thread>
#include <unistd.h>
#include <vector>

#include "horus/base/error.hpp"
#include "horus/horus.hpp"
#include "horus/session/namespace_name.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;
using horus::Encoding;
using horus::Image;
using horus::Topic;

namespace {

Image make_image(uint8_t value, uint64_t stamp, long w = 32, long h = 16) {
    Image img(h, w, Encoding::Rgb8);
    std::memset(img.mutable_data(), value, img.nbytes());
    img.set_timestamp_ns(stamp);
    img.set_frame_id("cam");
    return img;
}

uint64_t blocks_in_use() { return horus::Pool::instance().stats().blocks_in_use; }

bool topic_file_exists(const std::string& name) {
    for (const auto& obj : horus::list_namespace_objects(horus::shm_namespace()))
        if (obj == horus::shm_file_prefix(horus::shm_namespace()) + "topic." + name) return true;
    return false;
}

}  // namespace

TEST(Topic, DefaultNamesAreTheLowercaseTypeNames) {
    EXPECT_EQ(Topic<Image>().name(), "image");
    EXPECT_EQ(Topic<horus::DepthImage>().name(), "depthimage");
    EXPECT_EQ(Topic<horus::PointCloud>().name(), "pointcloud");
    EXPECT_EQ(Topic<horus::Tensor>().name(), "tensor");
}

TEST(Topic, DeliversTheSameBlockToEverySubscriberIncludingItself) {
    Topic<Image> pub("t.same"), sub("t.same");
    Image img = make_image(7, 42);
    pub.send(img);
    EXPECT_TRUE(img.is_shared());
    EXPECT_THROW(img.set_pixel(0, 0, std::vector<double>{1, 2, 3}), horus::ReadOnlyError);
    auto a = sub.try_recv();
    auto b = pub.try_recv();
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->data(), img.data());  // same process: the very same bytes
    EXPECT_EQ(b->data(), img.data());
    EXPECT_EQ(a->block().ref(), img.block().ref());
    EXPECT_TRUE(a->is_shared());
    EXPECT_EQ(a->timestamp_ns(), 42u);
    EXPECT_EQ(a->frame_id(), "cam");
    EXPECT_FALSE(sub.try_recv());
    Image priv = a->copy();
    EXPECT_FALSE(priv.is_shared());
    EXPECT_NE(priv.data(), img.data());
}

TEST(Topic, ReceivesOnlyWhatWasSentAfterItWasCreated) {
    Topic<Image> pub("t.late");
    Image first = make_image(1, 1);
    pub.send(first);
    Topic<Image> late("t.late");
    EXPECT_FALSE(late.try_recv());
    Image second = make_image(2, 2);
    pub.send(second);
    auto got = late.try_recv();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->timestamp_ns(), 2u);
}

TEST(Topic, SlowSubscriberLosesTheOldestAndCountsThem) {
    Topic<Image> pub("t.loss", 4), sub("t.loss");
    for (uint64_t i = 0; i < 10; ++i) {
        Image img = make_image(static_cast<uint8_t>(i), i);
        pub.send(img);
    }
    std::vector<uint64_t> got;
    while (auto m = sub.try_recv()) got.push_back(m->timestamp_ns());
    EXPECT_EQ(got, (std::vector<uint64_t>{6, 7, 8, 9}));
    EXPECT_EQ(sub.dropped(), 6u);
    EXPECT_EQ(got.size() + sub.dropped(), pub.published());
}

TEST(Topic, PublishReturnsTheSequenceNumberAReaderSeesAsItsCursor) {
    // The bridge recognises the messages it published itself by these numbers.
    auto ring = horus::TopicRing::open("t.seq", static_cast<uint32_t>(horus::MessageKind::Image), 4);
    horus::TopicEndpoint pub(ring), other(ring), reader(ring);
    horus::TensorDescriptor d;
    horus::Block b;
    EXPECT_FALSE(reader.try_read(d, b));  // a reader from now on
    std::vector<uint64_t> sent;
    for (uint64_t i = 0; i < 6; ++i) {
        Image img = make_image(static_cast<uint8_t>(i), 100 + i);
        sent.push_back((i % 2 ? other : pub).publish(img));
    }
    EXPECT_EQ(sent, (std::vector<uint64_t>{0, 1, 2, 3, 4, 5}));
    std::vector<uint64_t> read;
    while (reader.try_read(d, b)) {
        read.push_back(reader.cursor() - 1);
        EXPECT_EQ(d.timestamp_ns, 100 + reader.cursor() - 1);  // the message of that number
    }
    EXPECT_EQ(read, (std::vector<uint64_t>{2, 3, 4, 5}));  // capacity 4: 0 and 1 were overwritten
    EXPECT_EQ(reader.dropped(), 2u);
}

TEST(Topic, ReleaseReadFreesWhatEverySubscriberReadButTheNewest) {
    // For a sender that cannot allocate while the pool is full of messages already read.
    const uint64_t before = blocks_in_use();
    auto ring = horus::TopicRing::open("t.release", static_cast<uint32_t>(horus::MessageKind::Image), 8);
    horus::TopicEndpoint pub(ring), reader(ring);
    horus::TensorDescriptor d;
    horus::Block b;
    EXPECT_FALSE(reader.try_read(d, b));
    for (uint64_t i = 0; i < 3; ++i) {
        Image img = make_image(static_cast<uint8_t>(i), i);
        pub.publish(img);
    }
    EXPECT_EQ(blocks_in_use() - before, 3u);  // kept for the reader
    ring->release_read();
    EXPECT_EQ(blocks_in_use() - before, 3u);  // nothing read yet: nothing released
    while (reader.try_read(d, b)) b = horus::Block();
    EXPECT_EQ(blocks_in_use() - before, 3u);  // read, but only a publish (or release_read) frees them
    ring->release_read();
    EXPECT_EQ(blocks_in_use() - before, 1u);  // all but the newest
}

TEST(Topic, RefusesAnotherTypeOnTheSameName) {
    Topic<Image> images("t.typed");
    EXPECT_THROW(Topic<horus::PointCloud>("t.typed"), horus::TypeMismatch);
    try {
        Topic<horus::PointCloud> clouds("t.typed");
    } catch (const horus::TypeMismatch& e) {
        EXPECT_NE(std::string(e.what()).find("Image"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("PointCloud"), std::string::npos);
    }
}

TEST(Topic, ValidatesNamesAndCapacity) {
    EXPECT_THROW(Topic<Image>(""), horus::InvalidArgument);
    EXPECT_THROW(Topic<Image>("a/b"), horus::InvalidArgument);
    EXPECT_THROW(Topic<Image>(std::string(101, 'a')), horus::InvalidArgument);
    EXPECT_THROW(Topic<Image>("t.cap", 3), horus::InvalidArgument);
    EXPECT_THROW(Topic<Image>("t.cap", 0), horus::InvalidArgument);
    EXPECT_THROW(Topic<Image>("t.cap", 1u << 17), horus::InvalidArgument);
    Topic<Image> ok("t.cap", 8);
    EXPECT_THROW(Topic<Image>("t.cap", 16), horus::InvalidArgument);  // exists with 8
    EXPECT_EQ(Topic<Image>("t.cap").capacity(), 8u);
}

TEST(Topic, RecvTimesOutWithoutAMessage) {
    Topic<Image> sub("t.timeout");
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(sub.recv(100ms));
    const auto waited = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(waited, 95ms);
    EXPECT_LT(waited, 2s);
}

// recv() polls for HORUS_RECV_SPIN_US (default 50 us) before it sleeps on the futex:
// a long wait must cost about that much CPU, not the whole wait.
TEST(Topic, RecvPollsBrieflyThenSleeps) {
    Topic<Image> sub("t.spin");
    auto cpu_now = [] {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
    };
    const auto cpu0 = cpu_now();
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(sub.recv(300ms));
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 295ms);
    EXPECT_LT(cpu_now() - cpu0, 30ms);  // spin budget + futex bookkeeping, not 300 ms
    EXPECT_EQ(horus::TopicRing::recv_spin(), std::chrono::microseconds(horus::TopicRing::kDefaultRecvSpinUs));
    const auto t1 = std::chrono::steady_clock::now();
    EXPECT_FALSE(sub.recv(std::chrono::microseconds(5)));  // a timeout below the budget is honoured
    EXPECT_LT(std::chrono::steady_clock::now() - t1, 20ms);
}

TEST(Topic, BlockingRecvWakesWhenAnotherThreadSends) {
    Topic<Image> sub("t.wake");
    std::chrono::steady_clock::time_point sent_at;
    std::thread sender([&] {
        std::this_thread::sleep_for(50ms);
        Topic<Image> pub("t.wake");
        Image img = make_image(3, 3);
        sent_at = std::chrono::steady_clock::now();
        pub.send(img);
    });
    auto got = sub.recv(5s);
    const auto woke = std::chrono::steady_clock::now();
    sender.join();
    ASSERT_TRUE(got);
    EXPECT_LT(woke - sent_at, 500ms);
}

TEST(Topic, LastUserReleasesRingReferencesAndUnlinks) {
    const uint64_t base = blocks_in_use();
    {
        Topic<Image> sub("t.cleanup", 8);  // has read none of them
        Topic<Image> pub("t.cleanup");
        for (int i = 0; i < 5; ++i) {
            Image img = make_image(static_cast<uint8_t>(i), static_cast<uint64_t>(i));
            pub.send(img);
        }
        EXPECT_EQ(blocks_in_use(), base + 5);  // the ring holds them for sub
        EXPECT_TRUE(topic_file_exists("t.cleanup"));
    }
    EXPECT_EQ(blocks_in_use(), base);
    EXPECT_FALSE(topic_file_exists("t.cleanup"));
}

TEST(Topic, DeliversAcrossProcesses) {
    Topic<Image> sub("t.xproc", 64);
    const int pid = horus_test::fork_child([] {
        Topic<Image> pub("t.xproc");
        for (uint64_t i = 0; i < 20; ++i) {
            Image img = make_image(static_cast<uint8_t>(i * 3), i, 640, 480);
            pub.send(img);
        }
        return 0;
    });
    std::vector<uint64_t> got;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (got.size() < 20 && std::chrono::steady_clock::now() < deadline) {
        auto m = sub.recv(100ms);
        if (!m) continue;
        ASSERT_EQ(m->width(), 640u);
        const auto bytes = m->bytes();
        ASSERT_EQ(static_cast<uint8_t>(bytes[0]), static_cast<uint8_t>(m->timestamp_ns() * 3));
        ASSERT_EQ(static_cast<uint8_t>(bytes[bytes.size() - 1]), static_cast<uint8_t>(m->timestamp_ns() * 3));
        got.push_back(m->timestamp_ns());
    }
    EXPECT_EQ(horus_test::wait_child(pid), 0);
    ASSERT_EQ(got.size(), 20u);
    for (uint64_t i = 0; i < 20; ++i) EXPECT_EQ(got[i], i);
}

// Several publisher and subscriber threads on one topic (run under TSan by `make tsan`):
// every subscriber sees each publisher's messages in order, intact, and
// delivered + dropped == sent.
TEST(TopicStress, ManyPublishersAndSubscribersKeepOrderAndCountLoss) {
    constexpr int kPublishers = 3, kSubscribers = 3, kPerPublisher = 1500;
    std::vector<std::unique_ptr<Topic<horus::Tensor>>> subs;
    for (int s = 0; s < kSubscribers; ++s)
        subs.push_back(std::make_unique<Topic<horus::Tensor>>("t.stress", 16));
    std::atomic<int> publishers_done{0};
    std::vector<std::thread> threads;
    for (int p = 0; p < kPublishers; ++p)
        threads.emplace_back([&, p] {
            Topic<horus::Tensor> pub("t.stress");
            const uint64_t shape[1] = {64};
            for (uint64_t i = 0; i < kPerPublisher; ++i) {
                horus::Tensor t(shape, horus::DType::UInt64);
                auto* v = reinterpret_cast<uint64_t*>(t.mutable_data());
                for (int k = 0; k < 64; ++k) v[k] = (uint64_t(p) << 32) | i;
                t.set_timestamp_ns((uint64_t(p) << 32) | i);
                pub.send(t);
            }
            publishers_done.fetch_add(1);
        });
    std::vector<uint64_t> delivered(kSubscribers, 0);
    std::atomic<int> failures{0};
    for (int s = 0; s < kSubscribers; ++s)
        threads.emplace_back([&, s] {
            std::vector<int64_t> last(kPublishers, -1);
            Topic<horus::Tensor>& sub = *subs[s];
            for (;;) {
                const bool done = publishers_done.load() == kPublishers;
                auto m = sub.recv(5ms);
                if (!m) {
                    if (done) break;
                    continue;
                }
                const uint64_t stamp = m->timestamp_ns();
                const int p = static_cast<int>(stamp >> 32);
                const auto i = static_cast<int64_t>(stamp & 0xffffffffu);
                const auto* v = reinterpret_cast<const uint64_t*>(m->data());
                for (int k = 0; k < 64; ++k)
                    if (v[k] != stamp) failures.fetch_add(1);
                if (p >= kPublishers || i <= last[p]) failures.fetch_add(1);
                last[p] = i;
                ++delivered[s];
            }
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);
    for (int s = 0; s < kSubscribers; ++s)
        EXPECT_EQ(delivered[s] + subs[s]->dropped(), uint64_t{kPublishers} * kPerPublisher) << "subscriber " << s;
}

// A topic whose only user was killed keeps pool blocks through its ring; reclaiming
// dead processes tears it down (it is not left for the next user of that name).
TEST(Topic, ReclaimTearsDownTopicsWhoseUsersAllDied) {
    const uint64_t base = blocks_in_use();
    const int pid = horus_test::fork_child([] {
        Topic<Image> sub("t.orphan", 8);
        Topic<Image> pub("t.orphan");
        for (int i = 0; i < 3; ++i) {
            Image img = make_image(static_cast<uint8_t>(i), static_cast<uint64_t>(i));
            pub.send(img);
        }
        raise(SIGKILL);  // dies holding the topic open
        return 0;
    });
    EXPECT_EQ(horus_test::wait_child(pid), -SIGKILL);
    EXPECT_TRUE(topic_file_exists("t.orphan"));
    EXPECT_EQ(blocks_in_use(), base + 3);  // held by the orphaned ring (for the dead sub)
    EXPECT_GE(horus::Pool::instance().reclaim_dead_processes(), 2u);  // the process and the topic
    EXPECT_FALSE(topic_file_exists("t.orphan"));
    EXPECT_EQ(blocks_in_use(), base);
}

// A publisher killed between taking a ring reference and writing the slot (or before
// dropping the reference of the message it overwrote) leaves a ring count that no slot
// accounts for. Reclaiming the dead process reconciles ring counts with the slots.
TEST(Topic, ReclaimRepairsRingCountsLeftByAPublisherKilledMidSend) {
    Topic<Image> sub("t.midsend", 8);  // a live topic whose references must survive
    Image kept = make_image(9, 9);
    sub.send(kept);
    const uint64_t base = blocks_in_use();
    const int pid = horus_test::fork_child([] {
        Image img = make_image(1, 1);
        // What send() does first, under the topic mutex; then the process dies.
        if (!horus::Pool::instance().add_ring_ref(img.block().ref())) return 1;
        raise(SIGKILL);
        return 0;
    });
    EXPECT_EQ(horus_test::wait_child(pid), -SIGKILL);
    EXPECT_EQ(blocks_in_use(), base + 1);  // the orphaned ring reference keeps it
    horus::Pool::instance().reclaim_dead_processes();
    EXPECT_EQ(blocks_in_use(), base);  // repaired ...
    auto got = sub.try_recv();         // ... without touching what the topic holds
    ASSERT_TRUE(got);
    EXPECT_EQ(got->block().ref(), kept.block().ref());
    EXPECT_EQ(static_cast<uint8_t>(got->bytes()[0]), 9);
}

// test_hostile.cpp — regression tests for corrupt shared memory (one per fix the
// libFuzzer targets in cpp/fuzz found). Each test corrupts the live namespace of
// this test process the way another (buggy or malicious) process could, checks
// that horus answers with a horus::Error (or skips the bad data), then restores it.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <future>
#include <vector>

#include "horus/base/error.hpp"
#include "horus/msg/image.hpp"
#include "horus/pool/pool.hpp"
#include "horus/pool/pool_layout.hpp"
#include "horus/session/namespace_name.hpp"
#include "horus/msg/tensor.hpp"
#include "horus/topic/topic_layout.hpp"
#include "horus/topic/topic_ring.hpp"
#include "pool_test_access.hpp"
#include "session_test_access.hpp"


using namespace horus;
using PTA = horus::PoolTestAccess;

// image.cpp Image::received: shape (H, W, 0) has nbytes 0, so it passed the block
// bounds check while pixel()/roi() indexed H x W x 3 bytes (fuzz_descriptor).
TEST(Hostile, ImageDescriptorWithWrongChannelCountIsRejected) {
    Image img(4, 4, Encoding::Rgb8);
    TensorDescriptor d = img.descriptor();
    d.shape[0] = 32511;
    d.shape[1] = 65540;
    d.shape[2] = 0;
    d.nbytes = 0;
    EXPECT_THROW(Image::received(d, img.block()), ShmError);
    d = img.descriptor();
    d.shape[2] = 1;  // 4x4x1 bytes fits the block, but rgb8 pixels are 3 bytes
    d.nbytes = 16;
    EXPECT_THROW(Image::received(d, img.block()), ShmError);
    EXPECT_NO_THROW(Image::received(img.descriptor(), img.block()));
}

// topic/topic_publish.cpp TopicRing::try_read: a slot whose seq is behind write_seq (only a
// corrupt ring does that) made try_read yield and retry forever (fuzz_topic).
TEST(Hostile, TryReadSkipsCorruptSlotInsteadOfSpinning) {
    auto ring = TopicRing::open("hostile.spin", 0, 4);
    Tensor t(std::vector<uint64_t>{16}, DType::UInt8);
    ring->publish(t);
    ShmObject shm = ShmObject::open_existing(shm_name("topic.hostile.spin"));
    ASSERT_TRUE(shm.valid());
    auto* slots = reinterpret_cast<topic_layout::TopicSlot*>(static_cast<std::byte*>(shm.data()) +
                                                             sizeof(topic_layout::TopicHeader));
    const uint64_t saved = slots[0].seq.load();
    slots[0].seq.store(0);  // "never written", yet write_seq says message 0 exists
    auto done = std::async(std::launch::async, [&] {
        uint64_t cursor = 0, dropped = 0;
        TensorDescriptor d;
        Block b;
        const bool got = ring->try_read(cursor, dropped, d, b);
        return std::make_tuple(got, cursor, dropped);
    });
    ASSERT_EQ(done.wait_for(std::chrono::seconds(10)), std::future_status::ready) << "try_read spins";
    auto [got, cursor, dropped] = done.get();
    EXPECT_FALSE(got);
    EXPECT_EQ(cursor, 1u);
    EXPECT_EQ(dropped, 1u);
    slots[0].seq.store(saved);  // so closing the topic releases the slot's reference
}

// topic/topic_subscribers.cpp TopicRing::release_read_locked: write_seq near 2^64 wrapped the
// oldest-message bound to 0, so the early-release loop ran ~2^64 times (fuzz_topic).
TEST(Hostile, PublishOnACorruptWriteSequenceDoesNotHang) {
    auto ring = TopicRing::open("hostile.wrap", 0, 4);
    ShmObject shm = ShmObject::open_existing(shm_name("topic.hostile.wrap"));
    ASSERT_TRUE(shm.valid());
    auto* header = static_cast<topic_layout::TopicHeader*>(shm.data());
    header->write_seq.store(~uint64_t{0});
    auto done = std::async(std::launch::async, [&] {
        Tensor t(std::vector<uint64_t>{16}, DType::UInt8);
        ring->publish(t);
    });
    ASSERT_EQ(done.wait_for(std::chrono::seconds(10)), std::future_status::ready) << "publish hangs";
    done.get();
}

// pool/pool_internal.hpp segment_count(): a segment count above the table size made allocate()
// read SegmentEntry[1024+] past the control block (fuzz_pool, UBSan/ASan).
TEST(Hostile, SegmentCountAboveTableIsClamped) {
    Pool& pool = Pool::instance();
    Block keep = pool.allocate(1000);
    layout::PoolControl* ctl = PTA::control(pool);
    const uint32_t saved = ctl->segment_count.load();
    ctl->segment_count.store(5000);
    EXPECT_NO_THROW((void)pool.stats());
    try {
        Block b = pool.allocate(3 << 20);  // a new size class: scans the whole table
        EXPECT_GE(b.capacity(), 3u << 20);
    } catch (const Error&) {
        // PoolExhausted/ShmError are fine; reading past the table is not
    }
    EXPECT_NO_THROW(pool.reclaim_dead_processes());
    ctl->segment_count.store(saved);
}

// pool/pool_segments.cpp map_meta_locked(): a segment entry whose block_size disagrees with its size
// class was trusted (allocate() would hand out a block smaller than asked for),
// and a huge block_size overflowed the segment size computation (fuzz_pool).
TEST(Hostile, SegmentEntryWithWrongBlockSizeIsRejected) {
    Pool& pool = Pool::instance();
    Block b = pool.allocate(5000);
    const BlockRef ref = b.ref();
    layout::PoolControl* ctl = PTA::control(pool);
    layout::SegmentEntry& e = ctl->segments[ref.segment];
    const uint32_t saved_class = e.size_class;
    const uint64_t saved_size = e.block_size;
    for (uint64_t bogus : {uint64_t{0}, uint64_t{1} << 63, saved_size / 2}) {
        e.block_size = bogus;
        Pool* fresh = PTA::make();  // a new attacher maps (and checks) every segment anew
        PTA::attach(*fresh);
        EXPECT_THROW(fresh->acquire(ref), ShmError) << "block_size " << bogus;
        (void)0;
        PTA::destroy(fresh);
    }
    e.block_size = saved_size;
    e.size_class = saved_class - 1;  // class says smaller blocks than the segment has
    Pool* fresh = PTA::make();
    PTA::attach(*fresh);
    EXPECT_THROW(fresh->acquire(ref), ShmError);
    (void)0;
    PTA::destroy(fresh);
    e.size_class = saved_class;
}

// Reclaiming a dead process while a segment entry is corrupt threw out of attach()
// with the control mutex still held by this (live) process, so every other process
// of the namespace blocked forever (fuzz_pool). Now: the namespace lock is free
// afterwards and the dead slot is reclaimed all the same (a corrupt segment is
// skipped, never trusted).
TEST(Hostile, ReclaimOverCorruptSegmentDoesNotKeepTheLock) {
    Pool& pool = Pool::instance();
    Block b = pool.allocate(7000);
    const BlockRef ref = b.ref();
    layout::PoolControl* ctl = PTA::control(pool);
    layout::SegmentEntry& e = ctl->segments[ref.segment];
    session_layout::SessionControl* sc = SessionTestAccess::control(Session::instance());
    // A slot marked Live whose liveness lock nobody holds is a dead process.
    uint32_t dead = session_layout::kMaxProcesses;
    for (uint32_t s = 0; s < session_layout::kMaxProcesses && dead == session_layout::kMaxProcesses; ++s)
        if (sc->processes[s].state.load() == 0) dead = s;
    ASSERT_LT(dead, session_layout::kMaxProcesses);
    sc->processes[dead].incarnation.store(123456789);
    sc->processes[dead].state.store(static_cast<uint32_t>(session_layout::SlotState::Live));
    const uint32_t saved_count = e.block_count;
    e.block_count = 0;  // corrupt
    Pool* fresh = PTA::make();  // a fresh mapping meets the corrupt entry
    PTA::attach(*fresh);
    EXPECT_THROW(fresh->acquire(ref), ShmError);
    PTA::destroy(fresh);
    EXPECT_NO_THROW(Session::instance().reclaim());
    int r = pthread_mutex_trylock(&sc->mutex);
    EXPECT_TRUE(r == 0 || r == EOWNERDEAD) << "namespace lock left locked (" << r << ")";
    if (r == EOWNERDEAD) pthread_mutex_consistent(&sc->mutex);
    if (r == 0 || r == EOWNERDEAD) pthread_mutex_unlock(&sc->mutex);
    e.block_count = saved_count;
    EXPECT_EQ(sc->processes[dead].state.load(), 0u);  // reclaimed all the same
}

// topic/topic_publish.cpp TopicRing::try_read: a reader that polled the slot before write_seq
// (tried on 2026-12-01, reverted) took the message numbered write_seq itself; with write_seq =
// 2^64 - 1 and an empty slot (whose seq 0 is complete(2^64 - 1) modulo 2^64) the cursor
// wrapped to 0 and read on forever (fuzz_topic). Kept: the cursor must never pass write_seq.
TEST(Hostile, TryReadNeverPassesWriteSeqNearTheEndOfTheCounter) {
    auto ring = TopicRing::open("hostile.slotfirst", 0, 2);
    ShmObject shm = ShmObject::open_existing(shm_name("topic.hostile.slotfirst"));
    ASSERT_TRUE(shm.valid());
    auto* header = static_cast<topic_layout::TopicHeader*>(shm.data());
    header->write_seq.store(~uint64_t{0});
    auto done = std::async(std::launch::async, [&] {
        uint64_t cursor = 0, dropped = 0;
        TensorDescriptor d;
        Block b;
        int reads = 0;
        while (reads < 100 && ring->try_read(cursor, dropped, d, b)) ++reads;
        return std::make_tuple(reads, cursor);
    });
    ASSERT_EQ(done.wait_for(std::chrono::seconds(10)), std::future_status::ready) << "try_read spins";
    auto [reads, cursor] = done.get();
    EXPECT_EQ(reads, 0);  // the slots name no real message
    EXPECT_EQ(cursor, ~uint64_t{0});
    header->write_seq.store(0);
}

// test_pool.cpp — the shared-memory pool in one process: size classes,
// alignment, handle counting, references, find(), growth, ring references.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "horus/base/error.hpp"
#include "horus/pool/pool.hpp"
#include "horus/session/namespace_name.hpp"
#include "test_util.hpp"

using namespace horus;

namespace {

uint64_t in_use() { return Pool::instance().stats().blocks_in_use; }

TEST(PoolSizeClass, ClassSizesAreAlignedAndIncreasing) {
    uint64_t prev = 0;
    for (uint32_t c = 0; c <= 128; ++c) {
        const uint64_t s = Pool::class_block_size(c);
        EXPECT_EQ(s % 64, 0u) << "class " << c;
        EXPECT_GT(s, prev) << "class " << c;
        EXPECT_EQ(Pool::size_class_for(s), c) << "an exact class size maps to its class";
        prev = s;
    }
    EXPECT_EQ(Pool::class_block_size(0), 256u);
}

void check_class(uint64_t n) {
    const uint64_t b = Pool::class_block_size(Pool::size_class_for(n));
    ASSERT_GE(b, n) << "n=" << n;
    ASSERT_LE(b, std::max<uint64_t>(256, n + n / 4 + 1)) << "n=" << n;  // <= 25 % waste
    if (n > 256) {
        const uint32_t c = Pool::size_class_for(n);
        ASSERT_LT(Pool::class_block_size(c - 1), n) << "the class is the smallest that fits, n=" << n;
    }
}

TEST(PoolSizeClass, SmallestFittingClassSampled) {
    for (uint64_t n = 1; n <= 5000; ++n) check_class(n);
    for (int e = 8; e <= 30; ++e) {
        const uint64_t p = uint64_t{1} << e;
        for (int64_t d = -3; d <= 3; ++d) check_class(p + d);
        for (uint64_t q = 1; q < 4; ++q) {
            check_class(p + q * (p / 4));
            check_class(p + q * (p / 4) + 1);
        }
    }
    std::mt19937_64 rng(12345);
    for (int i = 0; i < 20000; ++i) check_class(1 + rng() % (uint64_t{1} << 30));
}

TEST(Pool, PayloadsAre64ByteAligned) {
    auto& pool = Pool::instance();
    std::vector<Block> keep;
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{63}, std::size_t{64},
                          std::size_t{65}, std::size_t{100}, std::size_t{256}, std::size_t{257},
                          std::size_t{1000}, std::size_t{4095}, std::size_t{4097},
                          std::size_t{100000}, std::size_t{1} << 20, std::size_t{3} << 20}) {
        for (int k = 0; k < 3; ++k) {
            Block b = pool.allocate(n);
            ASSERT_TRUE(b.valid());
            EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % 64, 0u) << "n=" << n;
            EXPECT_GE(b.capacity(), std::max<std::size_t>(n, 1));
            EXPECT_EQ(b.capacity(), Pool::class_block_size(Pool::size_class_for(std::max<std::size_t>(n, 1))));
            std::memset(b.data(), 0xAB, b.capacity());  // the whole capacity is usable
            keep.push_back(std::move(b));
        }
    }
    // No two live blocks overlap.
    std::vector<std::pair<uintptr_t, uintptr_t>> ranges;
    for (auto& b : keep)
        ranges.emplace_back(reinterpret_cast<uintptr_t>(b.data()),
                            reinterpret_cast<uintptr_t>(b.data()) + b.capacity());
    std::sort(ranges.begin(), ranges.end());
    for (std::size_t i = 1; i < ranges.size(); ++i) EXPECT_LE(ranges[i - 1].second, ranges[i].first);
}

TEST(Pool, FreedExactlyWhenLastHandleDies) {
    auto& pool = Pool::instance();
    const uint64_t base = in_use();
    {
        Block a = pool.allocate(1000);
        EXPECT_EQ(in_use(), base + 1);
        EXPECT_EQ(pool.stats().local_blocks, base + 1);
        Block b = a;  // copy: same block, one more local handle
        EXPECT_EQ(b.data(), a.data());
        EXPECT_EQ(b.ref(), a.ref());
        EXPECT_EQ(in_use(), base + 1);
        a.reset();
        EXPECT_FALSE(a.valid());
        EXPECT_EQ(in_use(), base + 1) << "b still holds it";
        {
            Block c;
            c = b;  // copy assignment
            Block d(std::move(c));
            EXPECT_FALSE(c.valid());
            EXPECT_EQ(d.data(), b.data());
            Block e = pool.allocate(10);
            EXPECT_EQ(in_use(), base + 2);
            e = std::move(d);  // move assignment releases e's old block
            EXPECT_EQ(in_use(), base + 1);
            Block& alias = e;
            e = alias;  // self copy-assignment is a no-op
            EXPECT_TRUE(e.valid());
        }
        EXPECT_EQ(in_use(), base + 1);
        Block& self = b;
        b = std::move(self);  // self move-assignment keeps the handle
        EXPECT_TRUE(b.valid());
        EXPECT_EQ(in_use(), base + 1);
    }
    EXPECT_EQ(in_use(), base);
    EXPECT_EQ(pool.stats().local_blocks, base);
}

TEST(Pool, EmptyBlockHandle) {
    Block b;
    EXPECT_FALSE(b.valid());
    EXPECT_FALSE(static_cast<bool>(b));
    EXPECT_EQ(b.data(), nullptr);
    EXPECT_EQ(b.capacity(), 0u);
    EXPECT_EQ(b.ref(), BlockRef{});
    b.reset();
    Block c = b;
    EXPECT_FALSE(c.valid());
}

TEST(Pool, AcquireSharesTheBlock) {
    auto& pool = Pool::instance();
    const uint64_t base = in_use();
    Block a = pool.allocate(4096);
    std::memset(a.data(), 0, 4096);
    const BlockRef ref = a.ref();
    Block b = pool.acquire(ref);
    EXPECT_EQ(b.data(), a.data());
    EXPECT_EQ(b.ref(), ref);
    a.data()[17] = std::byte{42};
    EXPECT_EQ(b.data()[17], std::byte{42});
    a.reset();
    EXPECT_EQ(in_use(), base + 1) << "the acquired handle keeps the block";
    EXPECT_EQ(b.data()[17], std::byte{42});
    b.reset();
    EXPECT_EQ(in_use(), base);
}

TEST(Pool, StaleReferenceIsRejected) {
    auto& pool = Pool::instance();
    Block a = pool.allocate(300);
    const BlockRef ref = a.ref();
    a.reset();
    EXPECT_THROW(pool.acquire(ref), StaleReference);
    // Reuse of the same block gives a new generation; the old ref stays stale.
    std::vector<Block> again;
    for (int i = 0; i < 8; ++i) again.push_back(pool.allocate(300));
    bool reused = false;
    for (auto& b : again) {
        BlockRef r = b.ref();
        if (r.segment == ref.segment && r.index == ref.index) {
            reused = true;
            EXPECT_NE(r.generation, ref.generation);
        }
    }
    EXPECT_TRUE(reused) << "the allocation hint should hand the freed block out again";
    try {
        pool.acquire(ref);
        FAIL() << "stale reference acquired";
    } catch (const StaleReference& e) {
        EXPECT_NE(std::string(e.what()).find("generation " + std::to_string(ref.generation)),
                  std::string::npos)
            << e.what();
    } catch (const std::exception& e) {
        FAIL() << "wrong exception: " << e.what();
    }
    // A stale ref to a block this process currently holds (newer generation) is also rejected.
    for (auto& b : again) {
        BlockRef r = b.ref();
        if (r.segment == ref.segment && r.index == ref.index) {
            BlockRef old = r;
            old.generation = r.generation - 1;
            EXPECT_THROW(pool.acquire(old), StaleReference);
        }
    }
}

TEST(Pool, InvalidReferencesThrowShmError) {
    auto& pool = Pool::instance();
    Block a = pool.allocate(100);
    BlockRef bad_seg = a.ref();
    bad_seg.segment = 1000;
    try {
        pool.acquire(bad_seg);
        FAIL();
    } catch (const ShmError& e) {
        EXPECT_NE(std::string(e.what()).find("1000"), std::string::npos) << e.what();
    }
    bad_seg.segment = 5000;  // beyond the segment table
    EXPECT_THROW(pool.acquire(bad_seg), ShmError);
    BlockRef bad_index = a.ref();
    bad_index.index = 1u << 30;
    try {
        pool.acquire(bad_index);
        FAIL();
    } catch (const ShmError& e) {
        EXPECT_NE(std::string(e.what()).find(std::to_string(1u << 30)), std::string::npos) << e.what();
    }
    EXPECT_FALSE(pool.add_ring_ref(bad_index));
    pool.remove_ring_ref(bad_index);  // ignored
}

TEST(Pool, FindLocatesTheBlock) {
    auto& pool = Pool::instance();
    const uint64_t base = in_use();
    Block a = pool.allocate(10000);
    std::size_t off = 12345;
    Block f = pool.find(a.data(), 10, &off);
    ASSERT_TRUE(f.valid());
    EXPECT_EQ(off, 0u);
    EXPECT_EQ(f.data(), a.data());
    EXPECT_EQ(f.ref(), a.ref());
    Block g = pool.find(a.data() + 5000, 100, &off);
    ASSERT_TRUE(g.valid());
    EXPECT_EQ(off, 5000u);
    EXPECT_EQ(g.data(), a.data());
    // Ranges crossing the block end, and memory outside the pool, are not found.
    EXPECT_FALSE(pool.find(a.data() + a.capacity() - 4, 8, &off).valid());
    int local = 0;
    EXPECT_FALSE(pool.find(&local, sizeof local, &off).valid());
    EXPECT_FALSE(pool.find(nullptr, 0, nullptr).valid());
    // find() adds a handle: the block lives while the found handle does.
    a.reset();
    f.reset();
    EXPECT_EQ(in_use(), base + 1);
    g.reset();
    EXPECT_EQ(in_use(), base);
}

TEST(Pool, FindIgnoresFreedBlocks) {
    auto& pool = Pool::instance();
    Block a = pool.allocate(500);
    std::byte* p = a.data();
    a.reset();
    std::size_t off = 0;
    EXPECT_FALSE(pool.find(p, 1, &off).valid());
}

TEST(Pool, GrowsBySegments) {
    auto& pool = Pool::instance();
    const auto before = pool.stats();
    std::vector<Block> blocks;
    std::set<uint32_t> segments;
    // 1280-byte blocks (a class no other test uses, so the test also holds when
    // the whole binary runs in one process): a segment holds at most 1024, so
    // 1500 need two.
    for (int i = 0; i < 1500; ++i) {
        blocks.push_back(pool.allocate(1200));
        segments.insert(blocks.back().ref().segment);
    }
    EXPECT_GE(segments.size(), 2u);
    const auto mid = pool.stats();
    // (Growth is relative: with --gtest_repeat the segments already exist.)
    EXPECT_GE(mid.segments, before.segments);
    if (before.segments == 0) {
        EXPECT_GE(mid.segments, 2u);
    }
    EXPECT_EQ(mid.blocks_in_use, before.blocks_in_use + 1500);
    EXPECT_GE(mid.blocks_total, mid.blocks_in_use);
    EXPECT_GE(mid.capacity_bytes, mid.bytes_in_use);
    EXPECT_GT(mid.reserved_bytes, mid.capacity_bytes);
    EXPECT_EQ(mid.processes, 1u);
    EXPECT_EQ(mid.namespace_name, shm_namespace());
    EXPECT_EQ(mid.max_bytes, pool.max_bytes());
    // Different size classes live in different segments.
    Block big = pool.allocate(900000);  // class 917504, also unused elsewhere
    EXPECT_EQ(segments.count(big.ref().segment), 0u);
    // Every segment is a shared-memory object of the namespace.
    EXPECT_GE(list_namespace_objects(shm_namespace()).size(), 1u + pool.stats().segments);
    blocks.clear();
    big.reset();
    const auto after = pool.stats();
    EXPECT_EQ(after.blocks_in_use, before.blocks_in_use);
    EXPECT_GE(after.segments, mid.segments) << "segments stay for reuse";
    EXPECT_LE(after.segments, mid.segments + 1);
    // Reuse: allocating again does not grow the pool.
    for (int i = 0; i < 1500; ++i) blocks.push_back(pool.allocate(1280));
    EXPECT_EQ(pool.stats().segments, after.segments);
}

TEST(Pool, RingReferencesKeepBlocksAlive) {
    auto& pool = Pool::instance();
    const uint64_t base = in_use();
    Block a = pool.allocate(64);
    const BlockRef ref = a.ref();
    ASSERT_TRUE(pool.add_ring_ref(ref));
    a.reset();
    EXPECT_EQ(in_use(), base + 1) << "the ring reference holds the block";
    Block b = pool.acquire(ref);  // a subscriber takes it from the ring
    EXPECT_TRUE(b.valid());
    pool.remove_ring_ref(ref);
    EXPECT_EQ(in_use(), base + 1);
    b.reset();
    EXPECT_EQ(in_use(), base);
    EXPECT_FALSE(pool.add_ring_ref(ref)) << "freed: stale";
    EXPECT_THROW(pool.acquire(ref), StaleReference);
    pool.remove_ring_ref(ref);  // stale: ignored
    EXPECT_EQ(in_use(), base);
}

TEST(Pool, OversizedAllocationThrowsPoolExhausted) {
    auto& pool = Pool::instance();
    const uint64_t base = in_use();
    try {
        pool.allocate(pool.max_bytes() + 1);
        FAIL() << "allocation above the cap succeeded";
    } catch (const PoolExhausted& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find(std::to_string(pool.max_bytes() + 1)), std::string::npos) << m;
        EXPECT_NE(m.find(std::to_string(pool.max_bytes())), std::string::npos) << m;
        EXPECT_NE(m.find("HORUS_POOL_MAX_BYTES"), std::string::npos) << m;
    }
    EXPECT_THROW(pool.allocate(~std::size_t{0}), PoolExhausted);
    EXPECT_EQ(in_use(), base);
    EXPECT_TRUE(pool.allocate(10).valid()) << "still usable";
}

TEST(Pool, DetachMakesHandlesInert) {
    // In a child: detaching is what exit does, and this process keeps its pool.
    const int rc = horus_test::run_in_child([] {
        auto& pool = Pool::instance();
        Block a = pool.allocate(128);
        Block b = a;
        horus::Session::instance().detach();
        horus::Session::instance().detach();  // idempotent
        int fails = 0;
        try {
            pool.allocate(1);
            ++fails;
        } catch (const ShmError&) {
        }
        try {
            pool.acquire(a.ref());
            ++fails;
        } catch (const ShmError&) {
        }
        a.reset();  // must not touch the shared state any more
        b.reset();
        return fails;
    });
    EXPECT_EQ(rc, 0);
}

}  // namespace

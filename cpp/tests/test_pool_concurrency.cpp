// test_pool_concurrency.cpp — threads allocating, copying, acquiring and
// releasing blocks at once (meant to run under TSan: `make tsan`).
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "horus/base/error.hpp"
#include "horus/msg/image.hpp"
#include "horus/pool/pool.hpp"

using namespace horus;

namespace {

uint64_t in_use() { return Pool::instance().stats().blocks_in_use; }

TEST(PoolConcurrency, AllocateWriteRelease) {
    auto& pool = Pool::instance();
    const uint64_t base = in_use();
    constexpr int kThreads = 4;
    constexpr int kIters = 1500;
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            std::mt19937 rng(t);
            const std::size_t sizes[] = {100, 256, 300, 5000, 70000};
            std::vector<std::pair<Block, std::byte>> held;
            for (int i = 0; i < kIters; ++i) {
                const std::size_t n = sizes[rng() % 5];
                Block b = pool.allocate(n);
                const auto tag = static_cast<std::byte>(t * 50 + i % 50);
                std::memset(b.data(), static_cast<int>(tag), n);
                Block copy = b;  // copies and releases interleave with other threads
                if (copy.data()[n - 1] != tag) errors.fetch_add(1);
                held.emplace_back(std::move(b), tag);
                if (held.size() > 16 || rng() % 3 == 0) {
                    const std::size_t k = rng() % held.size();
                    if (held[k].first.data()[0] != held[k].second) errors.fetch_add(1);
                    held.erase(held.begin() + static_cast<std::ptrdiff_t>(k));
                }
            }
            for (auto& [b, tag] : held)
                if (b.data()[0] != tag) errors.fetch_add(1);
        });
    for (auto& th : threads) th.join();
    EXPECT_EQ(errors.load(), 0) << "a block was handed to two owners at once";
    EXPECT_EQ(in_use(), base);
    EXPECT_EQ(pool.stats().local_blocks, base);
}

TEST(PoolConcurrency, CopyAndDropSharedHandles) {
    auto& pool = Pool::instance();
    const uint64_t base = in_use();
    std::vector<Block> shared;
    for (int i = 0; i < 8; ++i) shared.push_back(pool.allocate(512));
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 3000; ++i) {
                Block c = shared[i % shared.size()];
                Block d = std::move(c);
                Block e;
                e = d;
                (void)pool.find(e.data() + 10, 4, nullptr);
                (void)pool.acquire(e.ref());
            }
        });
    for (auto& th : threads) th.join();
    EXPECT_EQ(in_use(), base + 8);
    shared.clear();
    EXPECT_EQ(in_use(), base);
}

TEST(PoolConcurrency, AcquireRacesWithRelease) {
    auto& pool = Pool::instance();
    const uint64_t base = in_use();
    int acquired = 0, stale = 0;
    for (int iter = 0; iter < 400; ++iter) {
        Block b = pool.allocate(1024);
        std::memset(b.data(), 0x3C, 1024);
        const BlockRef ref = b.ref();
        std::atomic<int> go{0};
        Block got;
        bool was_stale = false;
        std::thread releaser([&] {
            go.fetch_add(1);
            while (go.load() < 2) {
            }
            b.reset();
        });
        std::thread acquirer([&] {
            go.fetch_add(1);
            while (go.load() < 2) {
            }
            try {
                got = pool.acquire(ref);
            } catch (const StaleReference&) {
                was_stale = true;
            }
        });
        releaser.join();
        acquirer.join();
        if (was_stale) {
            ++stale;
            EXPECT_FALSE(got.valid());
            EXPECT_EQ(in_use(), base);
        } else {
            ++acquired;
            ASSERT_TRUE(got.valid());
            EXPECT_EQ(got.data()[1023], std::byte{0x3C}) << "an acquired block is never recycled";
            EXPECT_EQ(in_use(), base + 1);
            got.reset();
            EXPECT_EQ(in_use(), base);
        }
    }
    EXPECT_EQ(acquired + stale, 400);
}

TEST(PoolConcurrency, AcquireAgainstFreeAndReallocate) {
    // One thread frees and reallocates blocks of a size class while others try
    // to acquire old references: each acquire either fails as stale or returns
    // the block of exactly that generation, never a recycled one.
    auto& pool = Pool::instance();
    const uint64_t base = in_use();
    constexpr int kSlots = 8;
    std::vector<Block> slots(kSlots);
    std::vector<std::atomic<uint64_t>> refs(kSlots);
    auto pack = [](const BlockRef& r) {
        return (uint64_t{r.segment} << 44) | (uint64_t{r.index} << 12) | r.generation;
    };
    auto unpack = [](uint64_t v) {
        BlockRef r;
        r.segment = static_cast<uint32_t>(v >> 44);
        r.index = static_cast<uint32_t>((v >> 12) & 0xFFFFFFFF);
        r.generation = static_cast<uint32_t>(v & 0xFFF);
        return r;
    };
    for (int i = 0; i < kSlots; ++i) {
        slots[i] = pool.allocate(2048);
        const uint64_t tag = pack(slots[i].ref());
        std::memcpy(slots[i].data(), &tag, sizeof tag);
        refs[i].store(tag);
    }
    std::atomic<bool> stop{false};
    std::atomic<int> bad{0};
    std::thread writer([&] {
        std::mt19937 rng(1);
        // 1500 rounds: far from the 4096 generations after which a 12-bit
        // generation could wrap onto a reference still being tried.
        for (int n = 0; n < 1500; ++n) {
            const int i = static_cast<int>(rng() % kSlots);
            slots[i].reset();
            slots[i] = pool.allocate(2048);
            const uint64_t tag = pack(slots[i].ref());
            std::memcpy(slots[i].data(), &tag, sizeof tag);  // before publishing the ref
            refs[i].store(tag, std::memory_order_release);
        }
        stop.store(true);
    });
    std::vector<std::thread> readers;
    for (int t = 0; t < 2; ++t)
        readers.emplace_back([&, t] {
            std::mt19937 rng(100 + t);
            while (!stop.load()) {
                const int i = static_cast<int>(rng() % kSlots);
                const BlockRef r = unpack(refs[i].load(std::memory_order_acquire));
                try {
                    Block b = pool.acquire(r);
                    uint64_t tag = 0;
                    std::memcpy(&tag, b.data(), sizeof tag);
                    if (tag != pack(r)) bad.fetch_add(1);  // acquired a recycled block
                } catch (const StaleReference&) {
                }
            }
        });
    writer.join();
    for (auto& th : readers) th.join();
    EXPECT_EQ(bad.load(), 0);
    slots.clear();
    EXPECT_EQ(in_use(), base);
}

TEST(PoolConcurrency, MessagesAcrossThreads) {
    const uint64_t base = in_use();
    Image src(64, 64, Encoding::Rgb8);
    src.fill(std::vector<double>{1, 2, 3});
    src.mark_shared();
    std::vector<std::thread> threads;
    std::atomic<int> bad{0};
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) {
                Image view = src;  // shared payload, new reference
                Image mine = view.copy();
                mine.set_pixel(t, i % 64, std::vector<double>{9, 9, 9});
                if (view.pixel(t, i % 64) != std::vector<double>{1, 2, 3}) bad.fetch_add(1);
                Image rx = Image::from_descriptor(mine.descriptor());
                if (rx.pixel(t, i % 64)[0] != 9) bad.fetch_add(1);
            }
        });
    for (auto& th : threads) th.join();
    EXPECT_EQ(bad.load(), 0);
    EXPECT_EQ(in_use(), base + 1);
}

}  // namespace

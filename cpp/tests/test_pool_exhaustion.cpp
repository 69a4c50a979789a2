// test_pool_exhaustion.cpp — the pool at its cap. Built as its own binary and
// run by ctest with HORUS_POOL_MAX_BYTES=8M (the cap is read once, when the
// Pool is constructed).
#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <unistd.h>
#include <vector>

#include "horus/base/error.hpp"
#include "horus/msg/image.hpp"
#include "horus/pool/pool.hpp"
#include "test_util.hpp"

using namespace horus;
using namespace horus_test;

namespace {

constexpr uint64_t kCap = 8ull << 20;
constexpr std::size_t kMiB = 1 << 20;

#define REQUIRE_SMALL_CAP()                                                                   \
    if (Pool::instance().max_bytes() != kCap)                                                 \
    GTEST_SKIP() << "run through ctest (HORUS_POOL_MAX_BYTES=8M); cap here is "               \
                 << Pool::instance().max_bytes()

/// Allocates 1 MiB blocks until the pool refuses; returns them and the error text.
std::vector<Block> fill_pool(std::string* error) {
    std::vector<Block> blocks;
    for (int i = 0; i < 64; ++i) {
        try {
            blocks.push_back(Pool::instance().allocate(kMiB));
        } catch (const PoolExhausted& e) {
            if (error) *error = e.what();
            return blocks;
        }
    }
    ADD_FAILURE() << "64 MiB allocated under an 8 MiB cap";
    return blocks;
}

TEST(PoolExhaustion, ClearErrorAndPoolStaysUsable) {
    REQUIRE_SMALL_CAP();
    auto& pool = Pool::instance();
    std::string msg;
    std::vector<Block> blocks = fill_pool(&msg);
    EXPECT_GE(blocks.size(), 4u);
    EXPECT_LT(blocks.size(), 8u) << "segment headers take some of the cap";
    EXPECT_NE(msg.find("asked for 1048576 B"), std::string::npos) << msg;
    EXPECT_NE(msg.find("8388608 B"), std::string::npos) << msg;
    EXPECT_NE(msg.find("HORUS_POOL_MAX_BYTES"), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::to_string(blocks.size()) + " blocks"), std::string::npos) << msg;
    const auto st = pool.stats();
    EXPECT_LE(st.reserved_bytes, kCap);
    EXPECT_EQ(st.blocks_in_use, blocks.size());
    // Repeated failures do not corrupt anything.
    EXPECT_THROW(pool.allocate(kMiB), PoolExhausted);
    EXPECT_THROW(pool.allocate(kMiB - 1000), PoolExhausted);
    // Smaller classes still fit in what is left of the cap.
    Block small = pool.allocate(100);
    EXPECT_TRUE(small.valid());
    // Freeing one big block makes room for the next.
    blocks.pop_back();
    Block again = pool.allocate(kMiB);
    EXPECT_TRUE(again.valid());
    EXPECT_THROW(pool.allocate(kMiB), PoolExhausted);
    blocks.clear();
    again.reset();
    small.reset();
    EXPECT_EQ(pool.stats().blocks_in_use, 0u);
    EXPECT_EQ(fill_pool(nullptr).size(), st.blocks_in_use) << "all of it is reusable";
}

TEST(PoolExhaustion, LargerThanCap) {
    REQUIRE_SMALL_CAP();
    try {
        Image img(2000, 2000, Encoding::Rgb8);  // 12 MB > 8 MiB
        FAIL() << "allocated past the cap";
    } catch (const PoolExhausted& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find("12000000 B"), std::string::npos) << m;
        EXPECT_NE(m.find("8388608 B"), std::string::npos) << m;
        EXPECT_NE(m.find("HORUS_POOL_MAX_BYTES"), std::string::npos) << m;
    }
    EXPECT_EQ(Pool::instance().stats().blocks_in_use, 0u);
    Image ok(1000, 1000, Encoding::Rgb8);  // 3 MB fits
    EXPECT_TRUE(ok.block().valid());
}

TEST(PoolExhaustion, AllocationAtCapReclaimsDeadProcesses) {
    REQUIRE_SMALL_CAP();
    auto& pool = Pool::instance();
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const int pid = fork_child([&] {
        std::vector<Block> all = fill_pool(nullptr);
        const auto n = static_cast<uint32_t>(all.size());
        write_all(fds[1], &n, sizeof n);
        ::raise(SIGKILL);  // dies holding the whole pool
        return 1;
    });
    ASSERT_GT(pid, 0);
    uint32_t n = 0;
    ASSERT_TRUE(read_all(fds[0], &n, sizeof n));
    ::close(fds[0]);
    ::close(fds[1]);
    EXPECT_EQ(wait_child(pid), -SIGKILL);
    EXPECT_GE(n, 4u);
    EXPECT_EQ(pool.stats().blocks_in_use, n);
    // No explicit reclaim: hitting the cap reclaims the dead child's blocks.
    Block b = pool.allocate(kMiB);
    EXPECT_TRUE(b.valid());
    const auto st = pool.stats();
    EXPECT_EQ(st.blocks_in_use, 1u);
    EXPECT_EQ(st.reclaimed_processes, 1u);
    EXPECT_EQ(st.processes, 1u);
}

}  // namespace

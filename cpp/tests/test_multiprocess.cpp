// test_multiprocess.cpp — blocks shared between processes, and reclamation of
// the references of processes that crashed (kill -9 leaves no leak).
//
// Children are made two ways: fork() (the Pool's pthread_atfork handler gives
// the child its own process slot, and it adopts the blocks it inherited), and
// posix_spawn of this binary in helper mode (a brand-new process that attaches
// on its own; see test_main.cpp).
#include <gtest/gtest.h>

#include <csignal>
#include <cstring>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "horus/base/error.hpp"
#include "horus/msg/image.hpp"
#include "horus/pool/pool.hpp"
#include "horus/session/session.hpp"
#include "horus/session/namespace_name.hpp"
#include "test_util.hpp"

using namespace horus;
using namespace horus_test;

namespace {

struct Pipe {
    int fd[2] = {-1, -1};
    Pipe() { EXPECT_EQ(::pipe(fd), 0); }
    ~Pipe() {
        for (int f : fd)
            if (f >= 0) ::close(f);
    }
    int r() const { return fd[0]; }
    int w() const { return fd[1]; }
};

uint64_t in_use() { return Pool::instance().stats().blocks_in_use; }

/// Waits until `pid` has terminated, without reaping it (it stays a zombie).
void wait_dead_not_reaped(int pid) {
    siginfo_t info{};
    ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), 0);
}

TEST(MultiProcess, ChildAcquiresBlockSentOverPipe) {
    auto& pool = Pool::instance();
    const uint64_t base = in_use();
    Pipe to_child, to_parent;
    // Forked before the block exists: the child maps the new segment itself.
    const int pid = fork_child([&] {
        BlockRef ref;
        if (!read_all(to_child.r(), &ref, sizeof ref)) return 10;
        Block b = Pool::instance().acquire(ref);
        for (int i = 0; i < 256; ++i)
            if (b.data()[i] != std::byte(i)) return 11;
        b.data()[100] = std::byte{0xCD};  // the parent must see this
        const char ok = 'k';
        if (!write_all(to_parent.w(), &ok, 1)) return 12;
        char done;
        if (!read_all(to_child.r(), &done, 1)) return 13;
        return 0;  // fork_child detaches, which drops the child's reference
    });
    ASSERT_GT(pid, 0);
    Block b = pool.allocate(777777);  // a size class no other test here uses
    for (int i = 0; i < 256; ++i) b.data()[i] = std::byte(i);
    const BlockRef ref = b.ref();
    ASSERT_TRUE(write_all(to_child.w(), &ref, sizeof ref));
    char ok = 0;
    ASSERT_TRUE(read_all(to_parent.r(), &ok, 1));
    EXPECT_EQ(b.data()[100], std::byte{0xCD});
    EXPECT_EQ(pool.stats().processes, 2u);
    // The child holds it too: our reset does not free it while the child lives.
    Block keep = b;
    b.reset();
    keep.reset();
    EXPECT_EQ(in_use(), base + 1);
    const char done = 'd';
    ASSERT_TRUE(write_all(to_child.w(), &done, 1));
    EXPECT_EQ(wait_child(pid), 0);
    EXPECT_EQ(in_use(), base) << "the child's detach freed the last reference";
    EXPECT_EQ(pool.stats().processes, 1u);
}

TEST(MultiProcess, ParentAcquiresBlockOfChild) {
    const uint64_t base = in_use();
    Pipe to_child, to_parent;
    const int pid = fork_child([&] {
        Image img(8, 8, Encoding::Mono8);
        img.fill(std::vector<double>{123});
        img.set_frame_id("from_child");
        TensorDescriptor d = img.descriptor();
        if (!write_all(to_parent.w(), &d, sizeof d)) return 10;
        char done;
        if (!read_all(to_child.r(), &done, 1)) return 11;
        return 0;  // img dies, then detach
    });
    ASSERT_GT(pid, 0);
    TensorDescriptor d;
    ASSERT_TRUE(read_all(to_parent.r(), &d, sizeof d));
    {
        Image rx = Image::from_descriptor(d);
        EXPECT_TRUE(rx.is_shared());
        EXPECT_EQ(rx.frame_id(), "from_child");
        const char done = 'd';
        ASSERT_TRUE(write_all(to_child.w(), &done, 1));
        EXPECT_EQ(wait_child(pid), 0);
        EXPECT_EQ(in_use(), base + 1) << "our reference outlives the child";
        EXPECT_EQ(rx.pixel(7, 7)[0], 123);
    }
    EXPECT_EQ(in_use(), base);
    EXPECT_THROW(Image::from_descriptor(d), StaleReference);
}

TEST(MultiProcess, ChildRejectsStaleReference) {
    auto& pool = Pool::instance();
    Block b = pool.allocate(5000);
    const BlockRef ref = b.ref();
    b.reset();
    const int rc = run_in_child([&] {
        try {
            Pool::instance().acquire(ref);
        } catch (const StaleReference&) {
            return 0;
        }
        return 1;
    });
    EXPECT_EQ(rc, 0);
}

TEST(MultiProcess, ForkedChildAdoptsInheritedBlocks) {
    auto& pool = Pool::instance();
    const uint64_t base = in_use();
    Block held = pool.allocate(2000);
    std::memset(held.data(), 0x11, 2000);
    const int rc = run_in_child([&] {
        // The inherited handle is valid here and counted for this process.
        if (held.data()[1999] != std::byte{0x11}) return 10;
        if (Pool::instance().stats().local_blocks < 1) return 11;
        held.data()[0] = std::byte{0x22};
        held.reset();  // drops only the child's bit
        return 0;
    });
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(in_use(), base + 1) << "the parent still holds it";
    EXPECT_EQ(held.data()[0], std::byte{0x22});
    held.reset();
    EXPECT_EQ(in_use(), base);
}

TEST(MultiProcess, CrashedChildIsReclaimed) {
    auto& pool = Pool::instance();
    Block mine = pool.allocate(3000);  // inherited by the child, must survive its crash
    const uint64_t base = in_use();
    const uint64_t reclaimed_before = pool.stats().reclaimed_processes;
    Pipe to_parent;
    const int pid = fork_child([&] {
        std::vector<Block> blocks;
        for (int i = 0; i < 5; ++i) blocks.push_back(Pool::instance().allocate(3000));
        blocks.push_back(Pool::instance().allocate(100000));
        const char ok = 'k';
        write_all(to_parent.w(), &ok, 1);
        ::raise(SIGKILL);  // no destructors, no detach
        return 1;
    });
    ASSERT_GT(pid, 0);
    char ok = 0;
    ASSERT_TRUE(read_all(to_parent.r(), &ok, 1));
    wait_dead_not_reaped(pid);  // a zombie counts as dead
    EXPECT_EQ(in_use(), base + 6) << "the dead child's blocks are still marked held";
    EXPECT_EQ(pool.stats().processes, 1u) << "a dead process is not counted live, reclaimed or not";
    EXPECT_EQ(pool.reclaim_dead_processes(), 1u);
    EXPECT_EQ(in_use(), base);
    EXPECT_EQ(pool.stats().processes, 1u);
    EXPECT_EQ(pool.stats().reclaimed_processes, reclaimed_before + 1);
    EXPECT_EQ(pool.reclaim_dead_processes(), 0u) << "idempotent";
    EXPECT_EQ(wait_child(pid), -SIGKILL);
    // Our own block survived the child's reclamation.
    std::memset(mine.data(), 1, 3000);
    Block again = pool.acquire(mine.ref());
    EXPECT_EQ(again.data(), mine.data());
    mine.reset();
    again.reset();
    EXPECT_EQ(in_use(), base - 1);
}

TEST(MultiProcess, AttachReclaimsCrashedProcess) {
    // Both helpers are brand-new processes (posix_spawn + exec of this binary).
    HelperResult crash = run_helper("crash", {"4", "1000"});
    EXPECT_EQ(crash.status, -SIGKILL);
    EXPECT_EQ(crash.output, "allocated 4\n");
    // The crashed helper's objects are still in /dev/shm with 4 blocks held;
    // the next process to attach reclaims them.
    EXPECT_FALSE(list_namespace_objects(shm_namespace()).empty());
    HelperResult report = run_helper("report");
    ASSERT_EQ(report.status, 0) << report.output;
    unsigned long long blocks = 99, reclaimed = 0;
    ASSERT_EQ(std::sscanf(report.output.c_str(), "%llu %llu", &blocks, &reclaimed), 2) << report.output;
    const uint64_t mine = Pool::instance().stats().local_blocks;  // 0 unless tests share a process
    EXPECT_EQ(blocks, mine);
    EXPECT_GE(reclaimed, 1u);
}

TEST(MultiProcess, ManyChildrenShareOneBlock) {
    auto& pool = Pool::instance();
    const uint64_t base = in_use();
    Block b = pool.allocate(64 * 8);
    std::memset(b.data(), 0, 64 * 8);
    const BlockRef ref = b.ref();
    std::vector<int> pids;
    for (int k = 0; k < 8; ++k)
        pids.push_back(fork_child([ref, k] {
            Block c = Pool::instance().acquire(ref);
            c.data()[k * 64] = std::byte(k + 1);  // each child its own cache line
            return 0;
        }));
    for (int pid : pids) EXPECT_EQ(wait_child(pid), 0);
    for (int k = 0; k < 8; ++k) EXPECT_EQ(b.data()[k * 64], std::byte(k + 1));
    EXPECT_EQ(pool.stats().processes, 1u);
    b.reset();
    EXPECT_EQ(in_use(), base);
}

TEST(MultiProcess, EnvironmentSettingsAreValidated) {
    // Each setting is read once per process, so each case is a fresh helper.
    HelperResult r = run_helper("report", {}, {"HORUS_POOL_MAX_BYTES=512K"});
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find(" 524288\n"), std::string::npos) << r.output;
    for (const char* bad : {"12Q", "0", "-5", "1G2", "abc", "2000000T"}) {
        r = run_helper("report", {}, {std::string("HORUS_POOL_MAX_BYTES=") + bad});
        EXPECT_EQ(r.status, 4) << bad;
        EXPECT_NE(r.output.find(std::string("HORUS_POOL_MAX_BYTES='") + bad + "'"), std::string::npos)
            << r.output;
    }
    for (const char* bad : {"has/slash", "has space", "dots.dots",
                            "x123456789012345678901234567890123456789012345678"}) {
        r = run_helper("report", {}, {std::string("HORUS_NAMESPACE=") + bad});
        EXPECT_EQ(r.status, 4) << bad;
        EXPECT_NE(r.output.find(std::string("HORUS_NAMESPACE='") + bad + "'"), std::string::npos)
            << r.output;
        EXPECT_NE(r.output.find("1-48"), std::string::npos) << r.output;
    }
    for (const char* good : {"0", "50", "1000000"}) {
        r = run_helper("topic", {}, {std::string("HORUS_RECV_SPIN_US=") + good});
        EXPECT_EQ(r.status, 0) << good << ": " << r.output;
        EXPECT_NE(r.output.find("opened"), std::string::npos) << r.output;
    }
    for (const char* bad : {"-1", "1000001", "5us", "abc", "99999999999999999999"}) {
        r = run_helper("topic", {}, {std::string("HORUS_RECV_SPIN_US=") + bad});
        EXPECT_EQ(r.status, 4) << bad;
        EXPECT_NE(r.output.find(std::string("HORUS_RECV_SPIN_US='") + bad + "'"), std::string::npos)
            << r.output;
        EXPECT_NE(r.output.find("0 to 1000000"), std::string::npos) << r.output;
    }
}

// Liveness is the session slot's OFD lock (base/liveness_lock.hpp), not /proc: a live
// child is live, a dead one (even a zombie nobody reaped yet) is not, and a slot's
// later incarnation is not the earlier process.
TEST(MultiProcess, LivenessFollowsTheProcessNotItsPid) {
    Pool::instance();
    Session& s = Session::instance();
    const ProcessRef me = s.self();
    EXPECT_TRUE(s.is_live(me));
    EXPECT_FALSE(s.is_live(ProcessRef{me.slot, me.incarnation + 1})) << "another incarnation of our slot";
    EXPECT_FALSE(s.is_live(ProcessRef{999, me.incarnation}));
    EXPECT_FALSE(s.is_live(ProcessRef{me.slot, 0}));
    int to_parent[2], to_child[2];
    ASSERT_EQ(::pipe(to_parent), 0);
    ASSERT_EQ(::pipe(to_child), 0);
    const int pid = fork_child([&] {
        ::close(to_child[1]);
        const ProcessRef child = Session::instance().self();
        write_all(to_parent[1], &child, sizeof child);
        char c;
        read_all(to_child[0], &c, 1);  // until the parent lets go
        return 0;
    });
    ProcessRef child{};
    ASSERT_TRUE(read_all(to_parent[0], &child, sizeof child));
    EXPECT_NE(child.slot, me.slot);
    EXPECT_TRUE(s.is_live(child)) << "a forked child has a slot of its own, live while it runs";
    ::close(to_child[1]);
    wait_dead_not_reaped(pid);
    EXPECT_FALSE(s.is_live(child)) << "a dead child (a zombie) is dead";
    EXPECT_EQ(wait_child(pid), 0);
    ::close(to_child[0]);
    ::close(to_parent[0]);
    ::close(to_parent[1]);
}

TEST(MultiProcess, NamespaceNames) {
    validate_namespace("abc_DEF-123");
    validate_namespace(std::string(48, 'n'));
    EXPECT_THROW(validate_namespace(""), InvalidArgument);
    EXPECT_THROW(validate_namespace(std::string(49, 'n')), InvalidArgument);
    EXPECT_EQ(shm_file_prefix("ns1"), "horus.ns1.");
    EXPECT_EQ(shm_name("pool"), "/horus." + shm_namespace() + ".pool");
    EXPECT_EQ(shm_namespace().rfind("gt_", 0), 0u) << "test_main sets a per-process namespace";
    EXPECT_TRUE(list_namespace_objects("no_such_namespace_here").empty());
}

}  // namespace

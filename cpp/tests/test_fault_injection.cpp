// test_fault_injection.cpp — errors thrown inside critical sections (issue 10, defect 3).
// shm_open/mmap are made to fail on purpose (base/fault_injection.hpp) where the core
// holds a process-shared lock; afterwards other processes must still publish, receive,
// reclaim and exit, and nothing may stay locked.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <unistd.h>

#include "horus/base/error.hpp"
#include "horus/base/fault_injection.hpp"
#include "horus/msg/image.hpp"
#include "horus/msg/tensor.hpp"
#include "horus/pool/pool.hpp"
#include "horus/session/session.hpp"
#include "horus/topic/topic.hpp"
#include "session_test_access.hpp"
#include "test_util.hpp"

using namespace horus;
using namespace std::chrono_literals;
using horus_test::fork_child;
using horus_test::read_all;
using horus_test::wait_child;
using horus_test::write_all;

namespace {

struct Pipe {
    int fd[2];
    Pipe() { EXPECT_EQ(::pipe(fd), 0); }
    ~Pipe() {
        ::close(fd[0]);
        ::close(fd[1]);
    }
};

bool lock_is_free(pthread_mutex_t& m) {
    int r = pthread_mutex_trylock(&m);
    if (r == EOWNERDEAD) pthread_mutex_consistent(&m);
    if (r == 0 || r == EOWNERDEAD) {
        pthread_mutex_unlock(&m);
        return true;
    }
    return false;
}

}  // namespace

// A send that must map another process's segment (to drop the reference of the
// message it overwrites) fails with EMFILE: before, the topic mutex stayed held and
// every other sender blocked forever. Now the error is a ShmError, nothing changed,
// and another process sends and receives on the topic right after.
TEST(FaultInjection, FailedSendLeavesTheTopicUsable) {
    Pool::instance();
    Topic<Tensor> topic("fault.send", 1);
    Pipe ready, go;
    // A child fills the only slot with a block from a segment we never mapped.
    const int child = fork_child([&] {
        Topic<Tensor> t("fault.send");
        const uint64_t shape[] = {123457};  // a size class nobody else uses
        Tensor big(shape, DType::UInt8);
        t.send(big);
        const char c = 'r';
        write_all(ready.fd[1], &c, 1);
        char x;
        read_all(go.fd[0], &x, 1);
        // After the parent's failed send: the topic still works from here.
        const uint64_t small[] = {16};
        Tensor again(small, DType::UInt8);
        t.send(again);
        return 0;
    });
    char c;
    ASSERT_TRUE(read_all(ready.fd[0], &c, 1));
    const uint64_t shape[] = {64};
    Tensor mine(shape, DType::UInt8);
    fault::inject_shm_failure(EMFILE, 0, 1000);
    try {
        topic.send(mine);
        fault::inject_shm_failure(0, 0, 0);
        FAIL() << "send should have failed to map the overwritten message's segment";
    } catch (const ShmError& e) {
        fault::inject_shm_failure(0, 0, 0);
        EXPECT_NE(std::string(e.what()).find("cannot map"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(mine.is_shared()) << "a failed send changes nothing";
    const char g = 'g';
    write_all(go.fd[1], &g, 1);
    EXPECT_EQ(wait_child(child), 0) << "the child's send after ours must not block";
    auto got = topic.recv(2s);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->nbytes(), 16u);
    topic.send(mine);  // and we can send again
}

// Reclamation whose mapping of a segment fails keeps the dead slot (retried later),
// never leaves the namespace lock held, and completes once mapping works again.
TEST(FaultInjection, ReclamationThatCannotMapKeepsTheDeadSlotAndUnlocks) {
    Pool& pool = Pool::instance();
    Pipe ready;
    const int child = fork_child([&] {
        const uint64_t shape[] = {654321};  // a new segment only the child maps (until we reclaim)
        Tensor t(shape, DType::UInt8);
        const ProcessRef me = Session::instance().self();
        write_all(ready.fd[1], &me, sizeof me);
        ::pause();
        return 0;
    });
    ProcessRef dead{};
    ASSERT_TRUE(read_all(ready.fd[0], &dead, sizeof dead));
    ::kill(child, SIGKILL);
    EXPECT_EQ(wait_child(child), -SIGKILL);
    session_layout::SessionControl* sc = SessionTestAccess::control(Session::instance());
    fault::inject_shm_failure(ENOMEM, 0, 1000);
    EXPECT_NO_THROW(pool.reclaim_dead_processes());
    fault::inject_shm_failure(0, 0, 0);
    EXPECT_TRUE(lock_is_free(sc->mutex));
    EXPECT_EQ(sc->processes[dead.slot].state.load(), 1u)
        << "the dead slot is kept while its blocks in an unreachable segment are not cleared";
    EXPECT_EQ(sc->processes[dead.slot].incarnation.load(), dead.incarnation);
    EXPECT_GE(pool.reclaim_dead_processes(), 1u) << "retried and completed";
    EXPECT_EQ(sc->processes[dead.slot].state.load(), 0u);
    EXPECT_EQ(pool.stats().blocks_in_use, 0u) << "the dead child's block was freed";
}

// Opening (attaching to) the pool and a topic while every shm call fails raises a
// ShmError naming the cause, and leaves no lock behind.
TEST(FaultInjection, OpeningATopicWhileShmFailsRaisesAndUnlocks) {
    Pool::instance();
    fault::inject_shm_failure(EACCES, 0, 1000);
    try {
        Topic<Image> t("fault.open");
        fault::inject_shm_failure(0, 0, 0);
        FAIL() << "expected ShmError";
    } catch (const ShmError& e) {
        fault::inject_shm_failure(0, 0, 0);
        EXPECT_NE(std::string(e.what()).find("Permission denied"), std::string::npos) << e.what();
    }
    session_layout::SessionControl* sc = SessionTestAccess::control(Session::instance());
    EXPECT_TRUE(lock_is_free(sc->mutex));
    Topic<Image> t("fault.open");  // works once the failure is gone
    Image img(2, 2, Encoding::Mono8);
    t.send(img);
    EXPECT_TRUE(t.try_recv());
}

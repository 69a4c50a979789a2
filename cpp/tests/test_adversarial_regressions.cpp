// test_adversarial_regressions.cpp — one test per finding of the adversarial review of the
// layered core (each failed before its fix).
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "horus/base/error.hpp"
#include "horus/base/fault_injection.hpp"
#include "horus/msg/image.hpp"
#include "horus/msg/tensor.hpp"
#include "horus/pool/pool.hpp"
#include "horus/session/namespace_name.hpp"
#include "horus/session/session.hpp"
#include "horus/topic/topic.hpp"
#include "test_util.hpp"

using namespace horus;
using namespace std::chrono_literals;
namespace tl = topic_layout;

namespace {

struct FaultScope {
    explicit FaultScope(int err) { fault::inject_shm_failure(err, 0, 1 << 30); }
    ~FaultScope() { fault::inject_shm_failure(0, 0, 0); }
};

tl::TopicSlot* slots_of(ShmObject& seg) {
    return reinterpret_cast<tl::TopicSlot*>(static_cast<std::byte*>(seg.data()) + sizeof(tl::TopicHeader));
}

}  // namespace

// Listing /dev/shm failed silently (EMFILE) and the census of topic slots came back
// "complete" with no topics: reconciliation then dropped every ring reference of live
// topics, and a subscriber lost its unread messages although nobody had died.
TEST(AdversarialRegression, ReclaimWithoutFileDescriptorsKeepsUnreadMessages) {
    Topic<Image> sub("adv.unread");
    Topic<Image> pub("adv.unread");
    for (int i = 0; i < 3; ++i) {
        Image img(4, 4, Encoding::Mono8);
        pub.send(img);
    }
    const uint64_t held = Pool::instance().stats().blocks_in_use;
    {
        FaultScope emfile(EMFILE);
        EXPECT_NO_THROW(Session::instance().reclaim());
    }
    EXPECT_EQ(Pool::instance().stats().blocks_in_use, held);
    int got = 0;
    while (sub.try_recv()) ++got;
    EXPECT_EQ(got, 3);
    EXPECT_EQ(sub.dropped(), 0u);
}

// A slot whose block reference names no real segment made every later send on the topic
// fail ("cannot map") for good.
TEST(AdversarialRegression, ACorruptSlotDoesNotWedgeTheTopic) {
    Topic<Image> t("adv.corrupt", 2);
    for (int i = 0; i < 2; ++i) {
        Image img(4, 4, Encoding::Mono8);
        t.send(img);
    }
    ShmObject seg = ShmObject::open_existing(shm_name("topic.adv.corrupt"));
    ASSERT_TRUE(seg.valid());
    for (uint32_t bogus : {1023u, 1024u, 0xFFFFFFFFu}) {
        tl::TopicSlot& slot = slots_of(seg)[0];
        TensorDescriptor d;
        std::memcpy(&d, slot.words, sizeof d);
        d.block.segment = bogus;
        std::memcpy(slot.words, &d, sizeof d);
        for (int i = 0; i < 4; ++i) {
            Image img(4, 4, Encoding::Mono8);
            EXPECT_NO_THROW(t.send(img)) << "segment " << bogus;
        }
        while (t.try_recv()) {
        }
    }
}

// fork() with the file descriptors exhausted aborted the parent (an exception escaped a
// noexcept fork handler). Now the child just has no slot and is told so.
TEST(AdversarialRegression, ForkWithoutFileDescriptorsDoesNotAbort) {
    Pool::instance();
    pid_t pid;
    {
        FaultScope emfile(EMFILE);
        pid = ::fork();
        if (pid == 0) ::_exit(Session::instance().attached() ? 1 : 0);
    }
    ASSERT_GT(pid, 0);
    int st = 0;
    ASSERT_EQ(::waitpid(pid, &st, 0), pid);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
    EXPECT_TRUE(Session::instance().attached());
}

// Fork children that end with _exit (as multiprocessing's do) never detach; fork took
// only Free slots, so after 39 of them every child had no slot.
TEST(AdversarialRegression, ForkReclaimsChildrenThatExitedWithoutDetaching) {
    Pool::instance();
    for (int i = 0; i < 60; ++i) {
        const pid_t pid = ::fork();
        if (pid == 0) ::_exit(Session::instance().attached() ? 0 : 1);  // no detach
        int st = 0;
        ASSERT_EQ(::waitpid(pid, &st, 0), pid);
        ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "child " << i << " had no slot";
    }
}

// A topic object sized but never initialised (its creator killed between the two, both
// under the namespace lock) survived reclamation, and every open of the name waited 2 s.
TEST(AdversarialRegression, HalfMadeTopicsAreRemovedByReclamation) {
    Pool::instance();
    const std::string full = shm_name("topic.adv.halfmade");
    const std::string empty = shm_name("topic.adv.empty");
    for (const auto& [name, size] : {std::pair{full, tl::topic_bytes(8)}, std::pair{empty, std::size_t{0}}}) {
        const int fd = shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(ftruncate(fd, static_cast<off_t>(size)), 0);
        close(fd);
    }
    const auto t0 = std::chrono::steady_clock::now();
    Session::instance().reclaim();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 150ms) << "reclaim waited on an empty object";
    EXPECT_FALSE(ShmObject::open_existing(full).valid());
    EXPECT_FALSE(ShmObject::open_existing(empty).valid());
    const auto t1 = std::chrono::steady_clock::now();
    Topic<Image> t("adv.halfmade");
    EXPECT_LT(std::chrono::steady_clock::now() - t1, 500ms);
}

// fuzz_descriptor (2026-12-01): a received descriptor whose payload offset is not a multiple
// of its item size made the accessors load misaligned floats (UB). Such a descriptor is
// corrupt: refused with ShmError, so a topic skips and counts it.
TEST(AdversarialRegression, AMisalignedPayloadOffsetIsRefused) {
    Pool& pool = Pool::instance();
    Block b = pool.allocate(4096);
    TensorDescriptor d;
    d.kind = MessageKind::Tensor;
    d.dtype = DType::Float32;
    d.ndim = 1;
    d.shape[0] = 8;
    d.nbytes = 32;
    d.offset = 130;
    d.block = b.ref();
    EXPECT_THROW(Tensor::received(d, b), ShmError);
    d.offset = 128;
    EXPECT_NO_THROW(Tensor::received(d, b));
}

// fuzz_topic.cpp — (b) arbitrary bytes over a topic's header and slots.
//
// Each input creates "/horus.<ns>.topic.fz" with a valid magic, version and
// capacity (so the checks past them are reached), then overwrites it with the input: the input is a
// list of (offset, length, bytes) patches over the whole object (header, user
// table, ring slots and descriptors), optionally the capacity/size too. Then
// the target opens the topic, reads it until it reports nothing new (bounded),
// publishes a message, reads again and closes it (the last user's close walks
// every slot to drop ring references). Discovery reads the patched header before and
// after, and an endpoint (discovery's table) is claimed and freed on it.
//
// Not fuzzed: the process-shared mutex and the `ready` flag. A process that can
// write the topic can always hold its mutex forever (a denial of service that
// no reader-side check can detect); the fuzzer keeps those bytes valid so a
// "hang" means a horus bug, not a lock held by a fake owner.
#include <atomic>
#include <cstddef>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.hpp"
#include "horus/base/error.hpp"
#include "horus/pool/pool.hpp"
#include "horus/base/robust_mutex.hpp"
#include "horus/msg/tensor.hpp"
#include "horus/topic/topic_discovery.hpp"
#include "horus/topic/topic_endpoint.hpp"
#include "horus/topic/topic_layout.hpp"
#include "horus/topic/topic_ring.hpp"

using namespace horus;
namespace tl = topic_layout;

namespace {
volatile uint64_t g_sink;
void g_sink_bytes(const Message& m) {
    uint64_t acc = 0;
    for (std::byte b : m.bytes()) acc += static_cast<uint8_t>(b);
    g_sink = acc;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    horus_fuzz::set_private_namespace("topic");
    std::atexit([] { horus_fuzz::unlink_namespace(); });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    horus_fuzz::Input in(data, size);
    Pool::instance();
    const std::string name = "fz";
    const std::string shm = shm_name("topic." + name);
    ShmObject::unlink(shm);

    const uint8_t flags = in.take<uint8_t>();
    const uint32_t cap = 1u << (in.take<uint8_t>() % 5);  // 1..16 slots
    std::size_t bytes = tl::topic_bytes(cap);
    if (flags & 0x01) bytes = in.take<uint16_t>() % (tl::topic_bytes(16) + 64) + 1;  // wrong size

    ShmObject seg = ShmObject::create_exclusive(shm, bytes);
    if (!seg.valid()) return 0;
    auto* base = static_cast<std::byte*>(seg.data());
    if (bytes >= sizeof(tl::TopicHeader)) {
        auto* h = static_cast<tl::TopicHeader*>(seg.data());
        h->magic = tl::kTopicMagic;
        h->version = tl::kTopicVersion;
        h->header_size = sizeof(tl::TopicHeader);
        h->capacity = cap;
    }
    // Patches: (offset:u16, len:u8, bytes...).
    const std::size_t mutex_off = offsetof(tl::TopicHeader, mutex);
    const std::size_t mutex_end = mutex_off + sizeof(pthread_mutex_t);
    while (in.left() >= 3) {
        std::size_t off = in.take<uint16_t>() % bytes;
        std::size_t len = in.take<uint8_t>();
        if (off + len > bytes) len = bytes - off;
        in.take_bytes(base + off, len);
    }
    if (bytes >= sizeof(tl::TopicHeader)) {
        auto* h = static_cast<tl::TopicHeader*>(seg.data());
        std::memset(base + mutex_off, 0, mutex_end - mutex_off);
        init_robust_mutex(h->mutex);
        h->ready.store(1);
        if (!(flags & 0x04)) h->destroyed.store(0);  // else: attach retries 100x, then ShmError
    }

    try {
        for (const TopicInfo& t : discover_topics()) g_sink = t.messages + t.endpoints.size();
    } catch (const horus::Error&) {
    }
    try {
        auto ring = TopicRing::open(name, (flags & 0x08) ? static_cast<uint32_t>(MessageKind::Tensor) : 0,
                                    std::nullopt);
        {
            TopicEndpoint listed(ring, (flags & 0x40) ? "fuzz_node" : "", tl::kSubscribes);
            TopicInfo info;
            if (discover_topic(name, info)) g_sink = info.endpoints.size();
        }
        uint64_t cursor = (flags & 0x10) ? 0 : ring->write_sequence() - ring->capacity();
        uint64_t dropped = 0;
        TensorDescriptor d;
        Block b;
        for (int i = 0; i < 64 && ring->try_read(cursor, dropped, d, b); ++i) {
            try {
                Tensor m = Tensor::received(d, b);
                g_sink_bytes(m);
            } catch (const horus::Error&) {
            }
        }
        ring->wait(cursor, std::chrono::nanoseconds(0));
        if (flags & 0x20) {
            Tensor t(std::vector<uint64_t>{8}, DType::UInt8);
            ring->publish(t);
            while (ring->try_read(cursor, dropped, d, b)) {
            }
        }
    } catch (const horus::Error&) {
    }
    ShmObject::unlink(shm);
    return 0;
}

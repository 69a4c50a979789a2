// topic_layout.hpp — the bytes of one topic ("/horus.<ns>.topic.<name>") in shared memory.
//
//   TopicHeader | capacity x TopicSlot
//
// The ring: message number s (0, 1, 2, ...) lives in slot s % capacity.
// TopicSlot::seq is a sequence lock: 0 = never written, 2s+1 = message s is
// being written, 2s+2 = message s is complete. TopicHeader::write_seq is the
// number of messages published (the next s).
//
// Who writes what:
//  * Publishers (any process) serialise on TopicHeader::mutex (robust): take a
//    ring reference on the new block, clear the overwritten slot's holds_ref,
//    store seq = 2s+1, copy the descriptor into the slot word by word (relaxed
//    atomics), set holds_ref, store seq = 2s+2 (release), then write_seq = s+1,
//    drop the ring reference of the message overwritten, release the messages
//    every subscriber has read (below), leave the mutex, bump futex_word and wake
//    waiters. A slot whose holds_ref is set holds one ring reference on its block
//    (block_word.hpp); references and holds_ref change only under the mutex, so a
//    reclaimer holding every topic mutex can recount them exactly.
//  * Early release: subscribers[] lists the Topic objects that keep messages for
//    themselves (claimed and freed under the mutex, with the owner's pid and start
//    time). Each entry's cursor is the next message its owner will read (it may lag
//    behind over inline messages, which hold no block to release): written
//    only by the owner (release), read by publishers under the mutex (acquire).
//    After publishing message s, a publisher drops the ring reference of every
//    message m in [release_seq, min(every cursor, s)) and advances release_seq:
//    read by everyone, so its block goes back to the pool as soon as the readers
//    drop their handles and the next message reuses a warm block. The newest
//    message is never released early. A cursor only moves forward past messages
//    its owner has acquired, so a registered reader never loses a message to an
//    early release. While overflow_subscribers > 0 (an entry could not be
//    claimed), nothing is released early: the ring behaves as if every message
//    were unread.
//  * A slot's descriptor is a TensorDescriptor or a BytesDescriptor (msg/bytes_descriptor.hpp);
//    only descriptors that name a pool block (descriptor_block()) ever set holds_ref:
//    an inline typed message is all in the slot.
//  * Topics are created under the namespace lock (the pool's control mutex).
//  * Subscribers never write the ring slots. A subscriber keeps its cursor (next
//    s) in its own process and mirrors it into its subscribers[] entry: it loads
//    write_seq (acquire), reads seq, copies the descriptor, re-reads seq; equal
//    and == 2s+2 means the copy is consistent. Then it acquires the block by
//    generation and checks seq once more.
//  * users[] (under the mutex): processes that have the topic open, named by their
//    session slot and incarnation (session/participant.hpp: ProcessRef), whose
//    liveness is the session's. The last one to close it releases the slots' ring
//    references and unlinks it. A dead user's subscribers[] entries and overflow
//    count are freed with its entry; topics whose users all died are torn down by
//    reclamation (topic_reclaim.cpp).
//  * Discovery (topic_discovery.hpp): endpoints[] has one entry per (process, node name)
//    that has the topic open, with the number of its Topic objects (`count`); claimed,
//    counted and freed under the mutex like subscribers[]. Its `roles` bits (publishes,
//    subscribes) are only ever set, by the owners (fetch_or, relaxed: informational),
//    the first time one of them sends or receives; a node's declared pubs/subs set them
//    at open. Entries of dead users are freed with their user entry. last_send_ns is stored by every publisher under the mutex
//    (CLOCK_REALTIME_COARSE, relaxed) and read by anyone.
#pragma once

#include <atomic>
#include <cstdint>
#include <pthread.h>

#include "horus/msg/descriptor.hpp"
#include "horus/topic/seqlock.hpp"

namespace horus::topic_layout {

inline constexpr uint64_t kTopicMagic = 0x43495050545355ull;  // "USTPPIC"
inline constexpr uint32_t kTopicVersion = 5;
inline constexpr std::size_t kTypeNameCapacity = 64;
inline constexpr std::size_t kTypeTextCapacity = 1024;
inline constexpr uint32_t kMaxUsers = 64;
inline constexpr uint32_t kMaxSubscribers = 128;
inline constexpr uint32_t kMaxEndpoints = 128;
inline constexpr std::size_t kNodeNameCapacity = 64;
inline constexpr uint32_t kMaxCapacity = 1u << 16;
inline constexpr std::size_t kMaxNameLength = 100;
inline constexpr std::size_t kDescriptorWords = sizeof(TensorDescriptor) / 8;

static_assert(sizeof(TensorDescriptor) % 8 == 0);

enum class EntryState : uint32_t { Free = 0, Live = 1 };

struct TopicUser {
    std::atomic<uint32_t> state;  // EntryState
    uint32_t slot;                // session slot of the process
    uint64_t incarnation;         // ... and its incarnation
    uint32_t overflow_subscribers;  // this process's subscribers without an entry (under the mutex)
};

/// One Topic object that keeps messages until it has read them. Own cache line:
/// its owner writes cursor on every read.
struct alignas(64) TopicSubscriber {
    std::atomic<uint64_t> cursor;  // next message the owner reads (owner: release; publishers: acquire)
    std::atomic<uint32_t> state;   // EntryState (under the mutex)
    uint32_t slot;                 // owner process: session slot and incarnation (under the mutex)
    uint64_t incarnation;
};

/// What an endpoint has done on the topic (TopicEndpointEntry::roles).
enum EndpointRole : uint32_t { kPublishes = 1, kSubscribes = 2 };

/// The Topic objects of one (process, node), for discovery only (nothing on the data
/// path reads it).
struct TopicEndpointEntry {
    std::atomic<uint32_t> state;  // EntryState (under the mutex)
    std::atomic<uint32_t> roles;  // EndpointRole bits (owners: fetch_or; anyone: load)
    uint32_t slot;                // owner process: session slot and incarnation (under the mutex)
    int32_t pid;                  // the owner's pid in its own PID namespace (informational)
    uint64_t incarnation;
    uint32_t count;               // its Topic objects (under the mutex)
    char node[kNodeNameCapacity];  // UTF-8, NUL-terminated ("" = not a node's; under the mutex)
};

struct alignas(64) TopicSlot {
    std::atomic<uint64_t> seq;
    uint64_t words[kDescriptorWords];  // a TensorDescriptor, accessed through atomic_ref
    std::atomic<uint32_t> holds_ref;   // 1: this slot owns a ring reference on its block (under the mutex)
};

struct TopicHeader {
    uint64_t magic;
    uint32_t version;
    uint32_t header_size;
    std::atomic<uint32_t> ready;      // creator finished initialising
    std::atomic<uint32_t> destroyed;  // last user left; attachers start over
    std::atomic<uint32_t> kind;       // MessageKind of the topic, 0 = not typed yet
    uint32_t capacity;                // power of two
    char name[kMaxNameLength + 1];
    pthread_mutex_t mutex;
    // The record type (msg/record_layout.hpp) of a Record topic's messages, or of the
    // records a Tensor topic carries. Set once, under the mutex: name and text first,
    // then type_hash (release); readers load type_hash (acquire) before the text.
    std::atomic<uint64_t> type_hash;  // 0 = none
    char type_name[kTypeNameCapacity];
    char type_text[kTypeTextCapacity];  // canonical layout text, NUL-terminated, truncated
    alignas(64) std::atomic<uint64_t> write_seq;
    std::atomic<int64_t> last_send_ns;  // CLOCK_REALTIME (coarse) of the latest publish, 0 = never
    alignas(64) std::atomic<uint32_t> futex_word;  // bumped after every publish
    std::atomic<uint32_t> waiters;                 // subscribers blocked in futex_wait
    alignas(64) uint64_t release_seq;    // messages below it were considered for early release (mutex)
    uint32_t subscriber_limit;           // entries at or above it are free (mutex)
    uint32_t overflow_subscribers;       // sum of users[].overflow_subscribers (mutex)
    alignas(64) TopicUser users[kMaxUsers];
    TopicSubscriber subscribers[kMaxSubscribers];
    uint32_t endpoint_limit;  // endpoints[] at or above it are free (mutex)
    TopicEndpointEntry endpoints[kMaxEndpoints];
};

inline std::size_t topic_bytes(uint32_t capacity) {
    return sizeof(TopicHeader) + std::size_t{capacity} * sizeof(TopicSlot);
}

}  // namespace horus::topic_layout

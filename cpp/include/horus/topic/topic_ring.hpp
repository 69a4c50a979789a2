// topic_ring.hpp — TopicRing: one named publish/subscribe channel in shared memory.
//
// Untyped: it carries TensorDescriptors of any MessageKind, and records the kind
// of the first typed user so a mismatching user is refused. Typed access is
// Topic<T> (topic.hpp); Python's horus.Topic wraps a TopicRing too.
//
// Publishing never waits for subscribers: a subscriber that falls more than
// `capacity` messages behind loses the oldest and is told how many it lost.
// Every TopicRing object of one name in one process shares one mapping and one
// entry of the topic's user table (see open()). Cursors and subscriber entries
// belong to the Topic objects (TopicEndpoint, topic_endpoint.hpp).
//
// Membership is per process: a ring records the process (session slot and
// incarnation) whose user entry it holds. A forked child that uses an inherited
// ring takes a user entry of its own first (ensure_member()); destroying a ring
// only ever frees the entry of the process that made it, so a child can never
// remove its parent from a topic or unlink the parent's live topic.
//
// Files: topic_open.cpp (open, attach, leave), topic_publish.cpp (the hot path:
// publish, try_read), topic_subscribers.cpp (subscriber table, early release,
// reaping users), topic_wait.cpp (blocking), topic_reclaim.cpp (reclamation).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "horus/pool/block.hpp"
#include "horus/msg/bytes_descriptor.hpp"
#include "horus/msg/descriptor.hpp"
#include "horus/msg/record_layout.hpp"
#include "horus/msg/message.hpp"
#include "horus/base/robust_mutex.hpp"
#include "horus/base/shm_object.hpp"
#include "horus/session/participant.hpp"
#include "horus/topic/topic_layout.hpp"

namespace horus {

class Pool;
class Session;

class TopicRing {
  public:
    /// Default ring capacity of a new topic. Each slot keeps its message's block alive
    /// until overwritten, so a ring of big sensor messages is kept short (8: a quarter
    /// second of 30 Hz video, and a working set small enough to stay warm in cache/TLB);
    /// small Tensor messages (detections, poses) and topics first opened by name get 64.
    static constexpr uint32_t kDefaultCapacity = 64;
    static constexpr uint32_t kDefaultSensorCapacity = 8;
    static uint32_t default_capacity(uint32_t kind);

    /// Opens (or creates) topic `name`. `kind` 0 accepts whatever the topic carries;
    /// otherwise a topic recorded with another kind throws TypeMismatch. `capacity`
    /// (power of two, 1..65536; default_capacity(kind) if not given) is used when
    /// creating; if given and the topic
    /// exists with another capacity, InvalidArgument.
    /// `record`: the layout of a Record topic's messages, or the record type of a
    /// Tensor-of-records topic; the first user with one types the topic, and a user
    /// with another layout throws TypeMismatch naming both (topic_type.cpp).
    static std::shared_ptr<TopicRing> open(const std::string& name, uint32_t kind,
                                           std::optional<uint32_t> capacity,
                                           const RecordLayout* record = nullptr);

    ~TopicRing();
    TopicRing(const TopicRing&) = delete;
    TopicRing& operator=(const TopicRing&) = delete;

    /// Publishes `msg` (marks it shared) and returns its sequence number (the
    /// write_sequence() it took). Throws TypeMismatch if its kind (or, for a Tensor,
    /// its record type) differs from the topic's.
    uint64_t publish(Message& msg);

    /// Publishes a typed message or schemaless data (bytes_descriptor.hpp). An inline
    /// `d` needs no block; a pooled one names `payload`, which becomes shared. `record`:
    /// the layout of a Record message (nullptr for Data). Throws TypeMismatch like
    /// publish(Message&); returns the message's sequence number.
    uint64_t publish(const BytesDescriptor& d, const RecordLayout* record, Block* payload);

    /// Releases the pool blocks of messages every subscriber has read, but the newest (what
    /// every publish does): for a publisher that cannot allocate its next message while the
    /// pool is full of messages already read (PoolExhausted), and so never publishes.
    void release_read();

    /// Number of messages ever published on this topic (the next sequence number).
    uint64_t write_sequence() const;

    /// Reads message `cursor` (advancing it). Returns false when nothing new is
    /// there. Messages overwritten before they could be read are skipped and
    /// added to `dropped`.
    bool try_read(uint64_t& cursor, uint64_t& dropped, TensorDescriptor& desc, Block& block);

    /// Blocks until a message past `cursor` may be available, or `timeout` passes.
    /// Polls for up to recv_spin() first, then sleeps on the topic's futex.
    void wait(uint64_t cursor, std::chrono::nanoseconds timeout);

    /// How long wait() polls before it sleeps: HORUS_RECV_SPIN_US microseconds
    /// (default kDefaultRecvSpinUs; 0 sleeps at once). Read once per process; a bad
    /// value throws InvalidArgument (from open()).
    static constexpr long long kDefaultRecvSpinUs = 50;
    static constexpr long long kMaxRecvSpinUs = 1000000;
    static std::chrono::nanoseconds recv_spin();

    /// Registers a subscriber whose next message is `cursor`: publishers keep every
    /// message from its cursor on until it has read it (or capacity newer ones came).
    /// Returns its entry, or kOverflowEntry when the table is full (then no message
    /// of the topic is released early while that subscriber lives).
    static constexpr uint32_t kOverflowEntry = 0xFFFFFFFFu;
    uint32_t add_subscriber(uint64_t cursor);
    /// Frees an entry from add_subscriber (kOverflowEntry included).
    void remove_subscriber(uint32_t entry) noexcept;
    /// Tells publishers that the subscriber of `entry` will read `cursor` next.
    void store_cursor(uint32_t entry, uint64_t cursor) {
        if (entry < topic_layout::kMaxSubscribers)
            header_->subscribers[entry].cursor.store(cursor, std::memory_order_release);
    }

    /// Discovery's endpoint table (topic_discovery.hpp): claims an entry naming this
    /// process and `node` ("" = none, truncated to 63 bytes) with `roles`
    /// (topic_layout::EndpointRole bits); kOverflowEntry when the table is full.
    uint32_t add_endpoint(const std::string& node, uint32_t roles);
    /// Adds `roles` to an entry from add_endpoint (kOverflowEntry: nothing).
    void note_roles(uint32_t entry, uint32_t roles) noexcept;
    void remove_endpoint(uint32_t entry) noexcept;

    uint32_t kind() const;
    /// The record layout hash of the topic's type (0: none); its name ("" if none).
    uint64_t type_hash() const;
    std::string type_name() const;
    /// "BatteryState messages with layout ... (hash 0x...)", "Image messages", ...
    std::string type_description() const;
    uint32_t capacity() const { return capacity_; }
    const std::string& name() const { return name_; }

    /// The process whose user entry this ring holds.
    const ProcessRef& member() const { return member_; }
    /// The session of this process (cached: the hot path asks for it on every call).
    Session& session() const { return *session_; }

  private:
    TopicRing() = default;
    void attach(uint32_t kind, const RecordLayout* record, std::optional<uint32_t> capacity);
    uint64_t publish_wire(const TensorDescriptor& d, uint32_t kind, const RecordLayout* record, Message* msg,
                          Block* payload);
    void ensure_member();
    RobustLock lock();
    void leave() noexcept;
    void release_read_locked(Pool& pool, uint64_t newest);

    std::string name_;
    ShmObject shm_;
    topic_layout::TopicHeader* header_ = nullptr;  // set only once attach() succeeded
    topic_layout::TopicSlot* slots_ = nullptr;
    uint32_t capacity_ = 0;
    uint32_t user_slot_ = 0;
    ProcessRef member_{};
    Session* session_ = nullptr;
};

/// Throws InvalidArgument unless `name` is 1..100 characters of [A-Za-z0-9_.-].
void validate_topic_name(const std::string& name);

/// Throws InvalidArgument unless `capacity` is a power of two in 1..65536.
void validate_capacity(int64_t capacity);

}  // namespace horus

// topic_endpoint.hpp — TopicEndpoint: what one Topic object (C++ Topic<T>, a Node's
// topic, Python's horus.Topic) knows of its topic: its cursor, its losses, and
// whether publishers keep messages for it.
//
// Every endpoint starts as a subscriber: it receives everything sent after it was
// made, and publishers keep each message until it has read it (at most `capacity`
// messages: older ones are overwritten and counted in dropped()). Once every such
// subscriber has read a message, the next send() hands its block back to the pool
// (TopicRing::release_read_locked), so a pipeline recycles a few warm blocks
// instead of pinning the whole ring.
//
// An endpoint that sends before it has ever called try_read() is a publisher: it
// stops holding messages for itself (otherwise a publish-only Topic would pin
// every message until overwritten). If it starts reading later it is a subscriber
// again from its cursor on; messages released meanwhile that nobody else still
// holds are counted in dropped(), never silently lost. The newest message is
// always kept, so `t.send(m); t.recv()` on one Topic works.
//
// Discovery: each endpoint has an entry in the topic's endpoint table
// (topic_discovery.hpp) naming its process and node, and marks it the first time it
// publishes or reads.
//
// Not thread-safe: one endpoint is used by one thread at a time (Python: the GIL).
// After fork() an inherited endpoint leaves its entry to the parent (the entry
// names the parent's process) and works without one in the child.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "horus/pool/block.hpp"
#include "horus/msg/descriptor.hpp"
#include "horus/msg/message.hpp"
#include "horus/topic/topic_ring.hpp"

namespace horus {

class TopicEndpoint {
  public:
    explicit TopicEndpoint(std::shared_ptr<TopicRing> ring);
    /// An endpoint of node `node` that declares `roles` (topic_layout::EndpointRole bits).
    TopicEndpoint(std::shared_ptr<TopicRing> ring, const std::string& node, uint32_t roles);
    ~TopicEndpoint();
    TopicEndpoint(TopicEndpoint&& other) noexcept;
    TopicEndpoint& operator=(TopicEndpoint&& other) noexcept;
    TopicEndpoint(const TopicEndpoint&) = delete;
    TopicEndpoint& operator=(const TopicEndpoint&) = delete;

    /// Publishes `msg` (marks it shared) and returns its sequence number; see the class
    /// comment for what it does to an endpoint that never read.
    uint64_t publish(Message& msg);
    /// The same for a typed message or schemaless data (TopicRing::publish).
    uint64_t publish(const BytesDescriptor& d, const RecordLayout* record, Block* payload);

    /// The next message's descriptor and block; false when nothing new is there.
    bool try_read(TensorDescriptor& desc, Block& block);

    /// Blocks until a message past the cursor may be there, or `timeout` passes.
    void wait(std::chrono::nanoseconds timeout) const { ring_->wait(cursor_, timeout); }

    /// Lists this endpoint under node `node` with `roles` added (discovery).
    void list_as(const std::string& node, uint32_t roles);

    /// Counts one message the caller could not use (e.g. a corrupt descriptor).
    void count_dropped() { ++dropped_; }

    uint64_t dropped() const { return dropped_; }
    /// The sequence number of the next message try_read() looks at: after a try_read()
    /// that returned true, cursor() - 1 is the sequence number of the message it read.
    uint64_t cursor() const { return cursor_; }
    /// Messages waiting for this endpoint (at most capacity()).
    uint64_t pending() const;
    /// True while publishers keep messages for this endpoint.
    bool holds_messages() const;
    TopicRing& ring() const { return *ring_; }

  private:
    static constexpr uint32_t kNoEntry = 0xFFFFFFFEu;  // not registered (kOverflowEntry is another value)
    void subscribe();
    void unsubscribe() noexcept;
    void note_role(uint32_t role) noexcept;

    std::shared_ptr<TopicRing> ring_;
    uint64_t cursor_ = 0;
    uint64_t dropped_ = 0;
    uint32_t entry_ = kNoEntry;  // our subscribers[] entry, kOverflowEntry, or kNoEntry
    ProcessRef owner_{};         // the process that took entry_
    bool has_read_ = false;      // try_read() was called at least once
    uint32_t listed_ = kNoEntry;  // our endpoints[] entry (discovery) ...
    ProcessRef listed_by_{};      // ... which names this process (not a forked child)
    uint32_t roles_ = 0;          // EndpointRole bits already noted in it
};

}  // namespace horus

// record_topic.hpp — Topic<T> for typed messages (HORUS_MESSAGE types).
//
//   horus::Topic<horus::msg::CmdVel> cmd("cmd_vel");
//   cmd.send({.linear = 0.5f, .angular = 0.1f});
//   if (auto m = cmd.recv(10ms)) use(m->value.linear, m->timestamp_ns);
//
// The topic's type is the layout hash: opening it with a type of another layout (a
// C++ or Python declaration, any process) throws TypeMismatch naming both layouts.
// Messages have value semantics: send() copies the record (inline in the ring slot
// when it fits in kInlinePayloadBytes, else into a new pool block), recv() copies it
// out. A received message whose bytes a C++ reader may not read (a bool that is
// neither 0 nor 1) or whose size or hash is wrong is skipped and counted in dropped().
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "horus/msg/bytes_message.hpp"
#include "horus/msg/record.hpp"
#include "horus/topic/topic_endpoint.hpp"
#include "horus/topic/topic_ring.hpp"
#include "horus/topic/topic.hpp"  // the primary template (this file is included at its end)

namespace horus {

/// Builds the message for one record (inline or in a new block) with its metadata;
/// InvalidArgument for a bad frame_id.
BytesMessage make_record_message(const RecordLayout& layout, const void* value, uint64_t timestamp_ns,
                                 std::string_view frame_id);

/// Reads the next message of `layout` into `out` (layout.size() bytes); false when none
/// is waiting. Corrupt ones are skipped and counted as dropped.
bool read_record(TopicEndpoint& endpoint, const RecordLayout& layout, void* out, uint64_t& timestamp_ns,
                 std::string& frame_id);

/// The lowercase name of a type ("cmdvel"): the default topic name.
std::string default_topic_name(std::string_view type_name);

template <Record T>
class Topic<T> {
  public:
    /// Opens topic `name` (default: the lowercase type name) for messages of T.
    explicit Topic(std::string name = default_topic_name(T::horus_layout().name()),
                   std::optional<uint32_t> capacity = std::nullopt)
        : endpoint_(TopicRing::open(name, static_cast<uint32_t>(MessageKind::Record), capacity, &T::horus_layout())) {}

    /// Publishes a copy of `value` with timestamp 0 and no frame_id.
    void send(const T& value) { send_bytes(&value, 0, {}); }
    /// Publishes a copy of `m.value` with its metadata.
    void send(const Stamped<T>& m) { send_bytes(&m.value, m.timestamp_ns, m.frame_id); }

    /// The next message, or nullopt if none is waiting. Never blocks.
    std::optional<Stamped<T>> try_recv() {
        Stamped<T> m;
        if (!read_record(endpoint_, T::horus_layout(), &m.value, m.timestamp_ns, m.frame_id)) return std::nullopt;
        return m;
    }

    /// The next message, waiting up to `timeout` for one.
    std::optional<Stamped<T>> recv(std::chrono::nanoseconds timeout) {
        return recv_until(endpoint_, timeout, [this] { return try_recv(); });
    }

    uint64_t dropped() const { return endpoint_.dropped(); }
    uint64_t pending() const { return endpoint_.pending(); }
    uint64_t published() const { return endpoint_.ring().write_sequence(); }
    uint32_t capacity() const { return endpoint_.ring().capacity(); }
    const std::string& name() const { return endpoint_.ring().name(); }

  private:
    void send_bytes(const T* value, uint64_t timestamp_ns, std::string_view frame_id) {
        BytesMessage m = make_record_message(T::horus_layout(), value, timestamp_ns, frame_id);
        endpoint_.publish(m.desc, &T::horus_layout(), m.is_inline() ? nullptr : &m.block);
    }

    TopicEndpoint endpoint_;
};

}  // namespace horus

// topic.hpp — Topic<T>: typed publish/subscribe for Image, DepthImage, PointCloud, Tensor
// and typed messages (record_topic.hpp).
//
//   horus::Topic<horus::Image> topic("camera.rgb");
//   topic.send(img);                      // img becomes shared (read-only)
//   if (auto msg = topic.recv(10ms)) ...  // waits up to 10 ms
//
// A Topic both publishes and subscribes. It receives every message sent on its
// name after it was created (by anyone, itself included), in order per
// publisher, unless it falls more than capacity() behind: then the oldest are
// skipped and dropped() counts them. send() never waits for subscribers.
// Publishers keep a message only until every subscribing Topic has read it; a
// Topic that sends before it ever receives is a publisher and keeps nothing for
// itself (topic_endpoint.hpp has the exact rule).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "horus/msg/depth_image.hpp"
#include "horus/msg/image.hpp"
#include "horus/msg/point_cloud.hpp"
#include "horus/msg/tensor.hpp"
#include "horus/topic/topic_endpoint.hpp"
#include "horus/topic/topic_ring.hpp"

namespace horus {

template <typename T>
struct MessageTraits;
template <>
struct MessageTraits<Image> {
    static constexpr MessageKind kind = MessageKind::Image;
    static constexpr const char* default_topic = "image";
};
template <>
struct MessageTraits<DepthImage> {
    static constexpr MessageKind kind = MessageKind::DepthImage;
    static constexpr const char* default_topic = "depthimage";
};
template <>
struct MessageTraits<PointCloud> {
    static constexpr MessageKind kind = MessageKind::PointCloud;
    static constexpr const char* default_topic = "pointcloud";
};
template <>
struct MessageTraits<Tensor> {
    static constexpr MessageKind kind = MessageKind::Tensor;
    static constexpr const char* default_topic = "tensor";
};

/// now + timeout, saturated at the clock's maximum (no overflow for huge timeouts).
inline std::chrono::steady_clock::time_point deadline_after(std::chrono::nanoseconds timeout) {
    const auto now = std::chrono::steady_clock::now();
    if (timeout.count() <= 0) return now;
    const auto room = std::chrono::steady_clock::time_point::max() - now;
    if (timeout >= room) return std::chrono::steady_clock::time_point::max();
    return now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout);
}

/// The receive loop of every Topic<T>: calls `try_recv()` until it yields a message or
/// `timeout` passes (a huge timeout waits forever), waiting on `endpoint` between tries.
template <typename TryRecv>
auto recv_until(const TopicEndpoint& endpoint, std::chrono::nanoseconds timeout, TryRecv try_recv)
    -> decltype(try_recv()) {
    const auto deadline = deadline_after(timeout);
    for (;;) {
        if (auto m = try_recv()) return m;
        const auto left = deadline - std::chrono::steady_clock::now();
        if (left.count() <= 0) return std::nullopt;
        endpoint.wait(std::chrono::duration_cast<std::chrono::nanoseconds>(left));
    }
}

/// Topic<T> of a memory type; typed messages (HORUS_MESSAGE types) have their own
/// specialisation in record_topic.hpp.
template <typename T>
class Topic {
  public:
    /// Opens topic `name` (default: the lowercase type name, e.g. "image").
    explicit Topic(std::string name = MessageTraits<T>::default_topic,
                   std::optional<uint32_t> capacity = std::nullopt)
        : endpoint_(TopicRing::open(name, static_cast<uint32_t>(MessageTraits<T>::kind), capacity)) {}

    /// Publishes `msg`; it becomes shared (further mutation throws ReadOnlyError).
    void send(T& msg) { endpoint_.publish(msg); }

    /// The next message, or nullopt if none is waiting. Never blocks.
    std::optional<T> try_recv() {
        TensorDescriptor desc;
        Block block;
        if (!endpoint_.try_read(desc, block)) return std::nullopt;
        if constexpr (std::is_same_v<T, Tensor>)
            return T::received(desc, std::move(block), desc.record_size ? endpoint_.ring().type_hash() : 0);
        else
            return T::received(desc, std::move(block));
    }

    /// The next message, waiting up to `timeout` for one (a huge timeout waits forever).
    std::optional<T> recv(std::chrono::nanoseconds timeout) {
        return recv_until(endpoint_, timeout, [this] { return try_recv(); });
    }

    /// Messages this subscriber lost because it fell more than capacity() behind.
    uint64_t dropped() const { return endpoint_.dropped(); }
    /// Messages waiting for this Topic (at most capacity()).
    uint64_t pending() const { return endpoint_.pending(); }
    /// Messages published on the topic, by anyone, since it was created.
    uint64_t published() const { return endpoint_.ring().write_sequence(); }
    uint32_t capacity() const { return endpoint_.ring().capacity(); }
    const std::string& name() const { return endpoint_.ring().name(); }

  private:
    TopicEndpoint endpoint_;
};

}  // namespace horus

#include "horus/topic/record_topic.hpp"

// topic.hpp — Topic<T>: typed publish/subscribe for Image, DepthImage, PointCloud, Tensor.
//
//   horus::Topic<horus::Image> topic("camera.rgb");
//   topic.send(img);                      // img becomes shared (read-only)
//   if (auto msg = topic.recv(10ms)) ...  // waits up to 10 ms
//
// A Topic both publishes and subscribes. It receives every message sent on its
// name after it was created (by anyone, itself included), in order per
// publisher, unless it falls more than capacity() behind: then the oldest are
// skipped and dropped() counts them. send() never waits for subscribers.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "horus/depth_image.hpp"
#include "horus/image.hpp"
#include "horus/point_cloud.hpp"
#include "horus/tensor.hpp"
#include "horus/topic_ring.hpp"

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

template <typename T>
class Topic {
  public:
    /// Opens topic `name` (default: the lowercase type name, e.g. "image").
    explicit Topic(std::string name = MessageTraits<T>::default_topic,
                   std::optional<uint32_t> capacity = std::nullopt)
        : ring_(TopicRing::open(name, static_cast<uint32_t>(MessageTraits<T>::kind), capacity)),
          cursor_(ring_->write_sequence()) {}

    /// Publishes `msg`; it becomes shared (further mutation throws ReadOnlyError).
    void send(T& msg) { ring_->publish(msg); }

    /// The next message, or nullopt if none is waiting. Never blocks.
    std::optional<T> try_recv() {
        TensorDescriptor desc;
        Block block;
        if (!ring_->try_read(cursor_, dropped_, desc, block)) return std::nullopt;
        return T::received(desc, std::move(block));
    }

    /// The next message, waiting up to `timeout` for one.
    std::optional<T> recv(std::chrono::nanoseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (auto m = try_recv()) return m;
            const auto left = deadline - std::chrono::steady_clock::now();
            if (left.count() <= 0) return std::nullopt;
            ring_->wait(cursor_, std::chrono::duration_cast<std::chrono::nanoseconds>(left));
        }
    }

    /// Messages this subscriber lost because it fell more than capacity() behind.
    uint64_t dropped() const { return dropped_; }
    /// Messages published on the topic, by anyone, since it was created.
    uint64_t published() const { return ring_->write_sequence(); }
    uint32_t capacity() const { return ring_->capacity(); }
    const std::string& name() const { return ring_->name(); }

  private:
    std::shared_ptr<TopicRing> ring_;
    uint64_t cursor_ = 0;
    uint64_t dropped_ = 0;
};

}  // namespace horus

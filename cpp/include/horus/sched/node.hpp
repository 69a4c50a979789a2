// node.hpp — Node: a named unit of robot software ticked by horus::run at a rate.
//
// The C++ twin of Python's horus.Node: tick/init/shutdown receive the node; the
// topics named in subs/pubs are opened when the node is constructed (so a
// subscriber gets everything sent after that), others on first use.
// node.send(name, msg) / node.recv<T>(name) use them. A Node is used by one
// thread (the one running horus::run).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "horus/msg/message.hpp"
#include "horus/msg/record.hpp"
#include "horus/topic/record_topic.hpp"
#include "horus/topic/topic_endpoint.hpp"

namespace horus {

struct NodeStats {
    uint64_t ticks = 0;
    uint64_t overruns = 0;  // ticks that took longer than the period
    double total_tick_s = 0;
    double max_tick_s = 0;
    double mean_tick_s() const { return ticks ? total_tick_s / static_cast<double>(ticks) : 0.0; }
};

class Node {
  public:
    using Callback = std::function<void(Node&)>;

    struct Options {
        std::string name{};
        Callback tick{};
        double rate = 30;  // Hz, in [1e-6, 1e6] (schedule::kMinRateHz .. kMaxRateHz)
        int order = 0;     // lower ticks first within a round
        std::vector<std::string> subs{};
        std::vector<std::string> pubs{};
        Callback init{};
        Callback shutdown{};
    };

    /// InvalidArgument (naming the value) for an empty name, no tick, or a rate out of range.
    explicit Node(Options options);

    const std::string& name() const { return options_.name; }
    double rate() const { return options_.rate; }
    int64_t period_ns() const { return period_ns_; }  // 1e9 / rate, rounded to whole ns
    double period() const { return static_cast<double>(period_ns_) / 1e9; }
    int order() const { return options_.order; }
    const NodeStats& stats() const { return stats_; }

    /// Publishes `msg` on `topic` (marks it shared).
    void send(const std::string& topic, Message& msg);

    /// The next message on `topic` as a T, or nullopt. TypeMismatch if the topic carries another type.
    template <typename T>
    std::optional<T> recv(const std::string& topic) {
        TopicEndpoint& s = endpoint(topic);
        TensorDescriptor desc;
        Block block;
        if (!s.try_read(desc, block)) return std::nullopt;
        return T::received(desc, std::move(block));
    }

    /// Typed messages (HORUS_MESSAGE types): publishes a copy of `value` on `topic`.
    template <Record T>
    void send(const std::string& topic, const T& value) {
        send(topic, Stamped<T>{value, 0, {}});
    }
    template <Record T>
    void send(const std::string& topic, const Stamped<T>& m) {
        BytesMessage b = make_record_message(T::horus_layout(), &m.value, m.timestamp_ns, m.frame_id);
        endpoint(topic).publish(b.desc, &T::horus_layout(), b.is_inline() ? nullptr : &b.block);
    }
    /// The next typed message on `topic`, or nullopt; TypeMismatch if the topic carries another type.
    template <Record T>
    std::optional<Stamped<T>> recv(const std::string& topic) {
        TopicEndpoint& s = endpoint(topic);
        const uint32_t k = s.ring().kind();
        if ((k != 0 && k != static_cast<uint32_t>(MessageKind::Record)) ||
            (k != 0 && s.ring().type_hash() != T::layout_hash()))
            throw TypeMismatch("topic '" + topic + "' carries " + s.ring().type_description() + "; cannot receive " +
                               T::horus_layout().name() + " messages with layout " + T::horus_layout().text());
        Stamped<T> m;
        if (!read_record(s, T::horus_layout(), &m.value, m.timestamp_ns, m.frame_id)) return std::nullopt;
        return m;
    }

    /// Messages lost on `topic` by this node (it fell behind by more than the capacity).
    uint64_t dropped(const std::string& topic) { return endpoint(topic).dropped(); }

  private:
    friend void run(const std::vector<Node*>& nodes, std::optional<double> duration_s);
    TopicEndpoint& endpoint(const std::string& topic);

    Options options_;
    int64_t period_ns_ = 0;
    NodeStats stats_;
    std::map<std::string, TopicEndpoint> topics_;
};

/// Error thrown by run() when a node's init, tick or shutdown throws; what() names the node.
class NodeError : public std::runtime_error {
  public:
    NodeError(std::string node, std::string phase, const std::string& what)
        : std::runtime_error("node '" + node + "' threw in " + phase + ": " + what),
          node_(std::move(node)), phase_(std::move(phase)) {}
    const std::string& node() const { return node_; }
    const std::string& phase() const { return phase_; }

  private:
    std::string node_, phase_;
};

/// Ticks `nodes` in the calling thread, each at its rate, in `order`, until
/// `duration_s` passes (forever if nullopt, inf or >= 1e9 s) or SIGINT/SIGTERM
/// arrives; the policy is horus/schedule.hpp. Calls init before the first tick
/// and shutdown at the end (also on a signal or an error). A tick that throws
/// stops the run; the error is rethrown as NodeError after shutdown. Duplicate
/// node names and a NaN or negative duration throw InvalidArgument.
void run(const std::vector<Node*>& nodes, std::optional<double> duration_s = std::nullopt);

}  // namespace horus

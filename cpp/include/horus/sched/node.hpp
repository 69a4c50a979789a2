// node.hpp — Node: a named unit of robot software ticked by horus::run at a rate.
//
// The C++ twin of Python's horus.Node: tick/init/shutdown/safe_mode receive the
// node; the topics named in subs/pubs are opened when the node is constructed (so a
// subscriber gets everything sent after that), others on first use.
// node.send(name, msg) / node.recv<T>(name) use them. A Node is used by one thread
// at a time (the one horus::run ticks it in; its own with `compute`, a priority or
// a core). The real-time options (budget, deadline, on_miss, failure_policy,
// priority, core, watchdog) are explained in docs/scheduler.md.
#pragma once

#include <atomic>
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
#include "horus/sched/node_log.hpp"
#include "horus/sched/tick_controller.hpp"
#include "horus/sched/tick_policy.hpp"
#include "horus/sched/tick_stats.hpp"

namespace horus {

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
        // ---- real-time options (docs/scheduler.md); seconds, as in Python
        Callback safe_mode{};             // on_miss = SafeMode: called after each missed tick until one meets its deadline
        std::optional<double> budget{};   // a tick should run at most this long (s, > 0)
        std::optional<double> deadline{}; // a tick must end this long after it was due (s, > 0; default: the budget)
        MissPolicy on_miss = MissPolicy::Warn;
        FailurePolicy failure_policy{};   // default Fatal: the run stops with NodeError
        std::optional<int> priority{};    // SCHED_FIFO 1-99 (higher is more urgent) for the node's own thread
        std::optional<int> core{};        // pin the node's own thread to this CPU
        std::optional<double> watchdog{}; // report a tick that has not returned after this long (s, > 0)
        bool compute = false;             // run in a thread of its own (also implied by priority or core)
    };

    /// InvalidArgument (naming the value) for an empty name, no tick, a rate, budget,
    /// deadline, watchdog, priority or core out of range, or on_miss SafeMode without a
    /// safe_mode callback.
    explicit Node(Options options);

    const std::string& name() const { return options_.name; }
    double rate() const { return options_.rate; }
    int64_t period_ns() const { return period_ns_; }  // 1e9 / rate, rounded to whole ns
    double period() const { return static_cast<double>(period_ns_) / 1e9; }
    int order() const { return options_.order; }
    const Options& options() const { return options_; }
    /// The statistics of all the node's runs so far (live while it runs, from the node's thread).
    const NodeStats& stats() const;
    /// Whether the node runs in a thread of its own (compute, priority or core).
    bool own_thread() const { return options_.compute || options_.priority || options_.core; }
    /// True from a missed tick (on_miss = SafeMode) until a tick meets its deadline.
    bool in_safe_mode() const { return controller_ && controller_->policy().in_safe_mode(); }

    /// Asks the run to stop: every node's shutdown runs and run() returns normally.
    void request_stop();
    /// Log lines on the namespace's log topic "horus.log" (`horus log`), Warning and
    /// Error also on stderr.
    void log_debug(std::string_view text) { publish_log(LogLevel::Debug, name(), text); }
    void log_info(std::string_view text) { publish_log(LogLevel::Info, name(), text); }
    void log_warning(std::string_view text) { publish_log(LogLevel::Warning, name(), text); }
    void log_error(std::string_view text) { publish_log(LogLevel::Error, name(), text); }

    /// Whether a message is waiting on `topic` (opened on first use).
    bool has_msg(const std::string& topic) { return endpoint(topic).pending() > 0; }
    /// Every message waiting on `topic`, oldest first.
    template <typename T>
    std::vector<T> recv_all(const std::string& topic) {
        std::vector<T> all;
        while (auto m = recv<T>(topic)) all.push_back(std::move(*m));
        return all;
    }

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
    std::vector<Stamped<T>> recv_all(const std::string& topic) {
        std::vector<Stamped<T>> all;
        while (auto m = recv<T>(topic)) all.push_back(std::move(*m));
        return all;
    }
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
    friend class RunState;
    TopicEndpoint& endpoint(const std::string& topic);

    Options options_;
    int64_t period_ns_ = 0;
    std::map<std::string, TopicEndpoint> topics_;
    std::unique_ptr<TickController> controller_;  // made by the first run(), kept for the statistics
    std::atomic<std::atomic<bool>*> stop_{nullptr};  // the running run's stop flag (request_stop from any thread)
};

/// Error thrown by run() when a node's init, tick, safe_mode or shutdown throws (phase
/// names which), or its real-time settings are refused under rt (phase "rt"); what()
/// names the node.
class NodeError : public std::runtime_error {
  public:
    NodeError(std::string node, std::string phase, const std::string& what)
        : std::runtime_error("node '" + node + (phase == "rt" ? "': " : "' threw in " + phase + ": ") + what),
          node_(std::move(node)), phase_(std::move(phase)) {}
    const std::string& node() const { return node_; }
    const std::string& phase() const { return phase_; }

  private:
    std::string node_, phase_;
};

/// How horus::run runs (all optional).
struct RunOptions {
    std::optional<double> duration{};   // seconds; nullopt, inf or >= 1e9: forever
    std::optional<double> tick_rate{};  // Hz: the highest rate a node of this run may have
    bool rt = false;                    // lock memory; a refused priority, core or lock is an error
    std::optional<double> watchdog{};   // seconds: the watchdog of nodes that set none
};

/// Ticks `nodes`, each at its rate, until the duration passes, SIGINT/SIGTERM
/// arrives, a node calls request_stop() or an on_miss Stop fires. Nodes without a
/// thread of their own tick in the calling thread in `order`; the others each in
/// their own thread. The policy is horus/schedule.hpp and tick_policy.hpp; see
/// docs/scheduler.md. init runs (in order, in the calling thread) before the first
/// tick and shutdown at the end, for every node whose init ran. A failure that is
/// fatal under the node's failure_policy stops the run; it is rethrown as NodeError
/// after shutdown. Duplicate names, bad options and (with rt) refused real-time
/// settings throw InvalidArgument or NodeError before any tick.
void run(const std::vector<Node*>& nodes, const RunOptions& options);
void run(const std::vector<Node*>& nodes, std::optional<double> duration_s = std::nullopt);

}  // namespace horus

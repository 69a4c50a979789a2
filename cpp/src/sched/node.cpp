// node.cpp — Node (see node.hpp): option checks, topics, stop requests.
#include "horus/sched/node.hpp"

#include <algorithm>
#include <cmath>

#include "horus/base/error.hpp"
#include "horus/msg/utf8.hpp"
#include "horus/sched/realtime.hpp"
#include "horus/sched/schedule.hpp"

namespace horus {
namespace {
constexpr double kMaxSeconds = 1e6;  // budget, deadline, watchdog: up to 11.6 days

void check_seconds(const std::string& node, const char* what, const std::optional<double>& v) {
    if (v && !(*v > 0 && *v <= kMaxSeconds))
        throw InvalidArgument("Node '" + node + "': " + what + " = " + schedule::number_text(*v) +
                              " s is out of range; expected 0 < " + what + " <= 1e6 s (e.g. 300e-6 for 300 us)");
}

const NodeStats& empty_stats() {
    static const NodeStats empty;
    return empty;
}
}  // namespace

Node::Node(Options options) : options_(std::move(options)) {
    const std::string& n = options_.name;
    if (n.empty()) throw InvalidArgument("Node name must not be empty");
    if (n.size() > 63 || n.find('\0') != std::string::npos || first_invalid_utf8(n) != std::string::npos)
        throw InvalidArgument("Node name '" + readable_text(n.data(), std::min<std::size_t>(n.size(), 63)) +
                              (n.size() > 63 ? "...' (" : "' (") + std::to_string(n.size()) +
                              " bytes) is invalid; expected 1 to 63 bytes of UTF-8 without NUL (discovery lists "
                              "names that long)");
    if (!options_.tick) throw InvalidArgument("Node '" + n + "': tick must be set");
    if (!schedule::rate_in_range(options_.rate))
        throw InvalidArgument("Node '" + n + "': rate = " + schedule::number_text(options_.rate) +
                              " Hz is out of range; expected " + schedule::number_text(schedule::kMinRateHz) +
                              " <= rate <= " + schedule::number_text(schedule::kMaxRateHz) + " Hz");
    check_seconds(n, "budget", options_.budget);
    check_seconds(n, "deadline", options_.deadline);
    check_seconds(n, "watchdog", options_.watchdog);
    if (static_cast<uint8_t>(options_.on_miss) > 3) throw InvalidArgument("Node '" + n + "': unknown on_miss value");
    if (options_.on_miss == MissPolicy::SafeMode && !options_.safe_mode)
        throw InvalidArgument("Node '" + n + "': on_miss = safe_mode needs a safe_mode callback (Options::safe_mode)");
    validate_failure_policy(options_.failure_policy, "Node '" + n + "': failure_policy");
    if (options_.priority && (*options_.priority < kMinFifoPriority || *options_.priority > kMaxFifoPriority))
        throw InvalidArgument("Node '" + n + "': priority = " + std::to_string(*options_.priority) +
                              " is out of range; expected 1 <= priority <= 99 (SCHED_FIFO, higher is more urgent)");
    if (options_.core && (*options_.core < 0 || *options_.core > kMaxCore))
        throw InvalidArgument("Node '" + n + "': core = " + std::to_string(*options_.core) +
                              " is out of range; expected 0 <= core <= 1023");
    period_ns_ = schedule::period_ns(options_.rate);
    for (const auto& t : options_.subs) endpoint(t);
    for (const auto& t : options_.pubs) endpoint(t);
}

const NodeStats& Node::stats() const { return controller_ ? controller_->stats() : empty_stats(); }

void Node::request_stop() {
    if (std::atomic<bool>* stop = stop_.load()) stop->store(true, std::memory_order_relaxed);
}

TopicEndpoint& Node::endpoint(const std::string& topic) {
    auto it = topics_.find(topic);
    if (it != topics_.end()) return it->second;
    // Discovery lists it under this node, with the roles the node declared for it.
    auto declared = [&](const std::vector<std::string>& names) {
        return std::find(names.begin(), names.end(), topic) != names.end();
    };
    const uint32_t roles = (declared(options_.subs) ? topic_layout::kSubscribes : 0u) |
                           (declared(options_.pubs) ? topic_layout::kPublishes : 0u);
    return topics_.emplace(topic, TopicEndpoint(TopicRing::open(topic, 0, std::nullopt), options_.name, roles))
        .first->second;
}

void Node::send(const std::string& topic, Message& msg) { endpoint(topic).publish(msg); }

}  // namespace horus

// node.cpp — Node (see node.hpp).
#include "horus/sched/node.hpp"

#include <algorithm>

#include "horus/base/error.hpp"
#include "horus/sched/schedule.hpp"

namespace horus {

Node::Node(Options options) : options_(std::move(options)) {
    if (options_.name.empty()) throw InvalidArgument("Node name must not be empty");
    if (!options_.tick) throw InvalidArgument("Node '" + options_.name + "': tick must be set");
    if (!schedule::rate_in_range(options_.rate))
        throw InvalidArgument("Node '" + options_.name + "': rate = " + schedule::number_text(options_.rate) +
                              " Hz is out of range; expected " + schedule::number_text(schedule::kMinRateHz) +
                              " <= rate <= " + schedule::number_text(schedule::kMaxRateHz) + " Hz");
    period_ns_ = schedule::period_ns(options_.rate);
    for (const auto& t : options_.subs) endpoint(t);
    for (const auto& t : options_.pubs) endpoint(t);
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

// node.cpp — Node (see node.hpp).
#include "horus/sched/node.hpp"

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
    return topics_.emplace(topic, TopicEndpoint(TopicRing::open(topic, 0, std::nullopt))).first->second;
}

void Node::send(const std::string& topic, Message& msg) { endpoint(topic).publish(msg); }

}  // namespace horus

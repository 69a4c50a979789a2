// node.cpp — Node (see node.hpp).
#include "horus/sched/node.hpp"

#include <cmath>

#include "horus/base/error.hpp"

namespace horus {

Node::Node(Options options) : options_(std::move(options)) {
    if (options_.name.empty()) throw InvalidArgument("Node name must not be empty");
    if (!options_.tick) throw InvalidArgument("Node '" + options_.name + "': tick must be set");
    if (!std::isfinite(options_.rate) || options_.rate <= 0)
        throw InvalidArgument("Node '" + options_.name + "': rate = " + std::to_string(options_.rate) +
                              " Hz is invalid; expected a finite number > 0");
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

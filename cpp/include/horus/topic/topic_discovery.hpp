// topic_discovery.hpp — every topic of the namespace, read from shared memory by any
// process: what it carries, who publishes and subscribes, how much it has sent.
//
// Tools (horus.topics(), `horus topic list`) are ordinary clients: discover_topics()
// maps each "/horus.<ns>.topic.*" object, checks it like an opener does, and copies
// its header under the topic mutex (a few hundred ns per topic; publishers wait at
// most that long once). If the mutex cannot be taken within 100 ms (its holder is
// stopped, or the word is corrupt) the topic is listed from what needs no lock
// (type, counts) with complete = false. Objects that are not valid topics of this
// version, or not ours, are skipped. Only live processes' entries are reported: a dead process's
// endpoints are hidden at once and freed by the next reaper (reclamation).
//
// The endpoint table itself (topic_layout.hpp: endpoints[]) is written through
// TopicRing::add_endpoint / note_roles / remove_endpoint, which TopicEndpoint calls.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace horus {

/// The Topic objects of one (live process, node).
struct TopicEndpointInfo {
    int32_t pid = 0;      // in the owner's PID namespace
    std::string node;     // the Node that opened them, "" if none
    bool publishes = false;   // one of them has sent (or the node declared it in pubs)
    bool subscribes = false;  // one of them has received (or the node declared it in subs)
    uint32_t topics = 0;      // how many Topic objects
};

struct TopicInfo {
    std::string name;
    uint32_t kind = 0;             // MessageKind, 0 = no message type yet
    std::string type_name;         // record type (Record topics, Tensor-of-records topics), else ""
    uint64_t type_hash = 0;        // its layout hash, 0 = none
    std::string type_description;  // as TopicRing::type_description()
    uint32_t capacity = 0;
    uint64_t messages = 0;         // published so far
    int64_t last_send_ns = 0;      // CLOCK_REALTIME of the latest publish (coarse), 0 = never
    uint32_t processes = 0;        // live processes that have it open
    // Their Topic objects by (process, node); one opened while the table of
    // kMaxEndpoints was full is not listed.
    std::vector<TopicEndpointInfo> endpoints;
    bool complete = true;          // false: the mutex was not available; processes and endpoints unknown
};

/// Every valid topic of this process's namespace, sorted by name. Throws ShmError if
/// /dev/shm cannot be listed.
std::vector<TopicInfo> discover_topics();

/// The topic `name` of this namespace, if it exists and is valid (validate_topic_name first).
bool discover_topic(const std::string& name, TopicInfo& out);

}  // namespace horus

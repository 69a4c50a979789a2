// bind_discovery.cpp — discovery for Python: the raw tables behind horus.topics() and
// horus.nodes() (python/horus/_discovery.py turns them into documented dataclasses), and
// (horus.run lists its nodes through bind_sched.cpp's _TickController).
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "horus/msg/message.hpp"
#include "horus/sched/node_registry.hpp"
#include "horus/sched/tick_policy.hpp"
#include "horus/topic/layout_registry.hpp"
#include "horus/topic/topic_discovery.hpp"

namespace nb = nanobind;

namespace horus::py {
namespace {

const char* kind_key(uint32_t kind) {
    switch (static_cast<MessageKind>(kind)) {
        case MessageKind::Tensor: return "Tensor";
        case MessageKind::Image: return "Image";
        case MessageKind::DepthImage: return "DepthImage";
        case MessageKind::PointCloud: return "PointCloud";
        case MessageKind::Record: return "Record";
        case MessageKind::Data: return "Data";
    }
    return "";
}

nb::dict topic_dict(const TopicInfo& t) {
    nb::dict d;
    d["name"] = t.name;
    d["kind"] = kind_key(t.kind);
    d["type_name"] = t.type_name;
    d["layout_hash"] = t.type_hash;
    d["type_description"] = t.type_description;
    d["capacity"] = t.capacity;
    d["messages"] = t.messages;
    d["last_send_ns"] = t.last_send_ns;
    d["processes"] = t.processes;
    d["complete"] = t.complete;
    nb::list endpoints;
    for (const TopicEndpointInfo& e : t.endpoints)
        endpoints.append(nb::make_tuple(e.pid, e.node, e.publishes, e.subscribes, e.topics));
    d["endpoints"] = endpoints;
    return d;
}

}  // namespace

void bind_discovery(nb::module_& m) {
    m.def(
        "_topics",
        [] {
            nb::list out;
            for (const TopicInfo& t : discover_topics()) out.append(topic_dict(t));
            return out;
        },
        "Every topic of this namespace as dicts (horus.topics() wraps them).");
    m.def(
        "_topic",
        [](const std::string& name) -> nb::object {
            TopicInfo t;
            if (!discover_topic(name, t)) return nb::none();
            return topic_dict(t);
        },
        nb::arg("name"), "The topic `name` as a dict, or None if it does not exist.");
    m.def(
        "_layout_bundle",
        [](uint64_t layout_hash) -> nb::object {
            auto bundle = read_layout_bundle(layout_hash);
            if (!bundle) return nb::none();
            nb::list out;
            for (const std::string& t : *bundle) out.append(nb::str(t.data(), t.size()));
            return out;
        },
        nb::arg("layout_hash"),
        "The canonical layout texts of the typed message `layout_hash` (first) and of every type "
        "nested in it, as published in this namespace by a process that declared it; None if none.");
    m.def(
        "_nodes",
        [] {
            nb::list out;
            for (const NodeInfo& n : discover_nodes()) {
                nb::dict d;
                d["name"] = n.name;
                d["language"] = n.language == node_registry_layout::Language::Python ? "python" : "c++";
                d["pid"] = n.pid;
                d["rate_hz"] = n.rate_hz;
                d["order"] = n.order;
                d["subs"] = n.subs;
                d["pubs"] = n.pubs;
                d["ticks"] = n.ticks;
                d["overruns"] = n.overruns;
                d["errors"] = n.errors;
                d["tick_ns_total"] = n.tick_ns_total;
                d["tick_ns_max"] = n.tick_ns_max;
                d["last_tick_ns"] = n.last_tick_ns;
                d["started_ns"] = n.started_ns;
                d["misses"] = n.misses;
                d["budget_overruns"] = n.budget_overruns;
                d["skipped"] = n.skipped;
                d["restarts"] = n.restarts;
                d["watchdog_expired"] = n.watchdog_expired;
                d["safe_mode_entries"] = n.safe_mode_entries;
                d["in_safe_mode"] = n.in_safe_mode;
                d["tick_ns_p99"] = n.tick_ns_p99;
                d["jitter_ns_p50"] = n.jitter_ns_p50;
                d["jitter_ns_p99"] = n.jitter_ns_p99;
                d["jitter_ns_max"] = n.jitter_ns_max;
                d["budget_ns"] = n.budget_ns;
                d["deadline_ns"] = n.deadline_ns;
                d["watchdog_ns"] = n.watchdog_ns;
                d["on_miss"] = miss_policy_name(static_cast<MissPolicy>(n.on_miss & 3));
                d["failure_policy"] = failure_policy_name(static_cast<FailurePolicy::Kind>(n.failure_policy & 3));
                d["priority"] = n.priority;
                d["core"] = n.core;
                d["own_thread"] = n.own_thread;
                out.append(d);
            }
            return out;
        },
        "Every running node of this namespace as dicts (horus.nodes() wraps them).");

}

}  // namespace horus::py

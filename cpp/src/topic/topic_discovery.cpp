// topic_discovery.cpp — the endpoint table of a topic (who uses it) and discover_topics()
// (topic_discovery.hpp; who writes what: topic_layout.hpp).
#include "horus/topic/topic_discovery.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <unistd.h>

#include "horus/base/error.hpp"
#include "horus/msg/utf8.hpp"
#include "horus/pool/pool.hpp"
#include "horus/session/namespace_name.hpp"
#include "horus/session/session.hpp"
#include "horus/topic/topic_ring.hpp"
#include "topic_internal.hpp"

namespace horus {
namespace tl = topic_layout;
using namespace topic_internal;

uint32_t TopicRing::add_endpoint(const std::string& node, uint32_t roles) {
    ensure_member();
    char name[tl::kNodeNameCapacity] = {};
    const std::string_view kept = utf8_prefix(node, sizeof name - 1);
    std::memcpy(name, kept.data(), kept.size());
    RobustLock guard = lock();
    tl::TopicHeader* h = header_;
    auto claim = [&]() -> uint32_t {
        uint32_t free_entry = kOverflowEntry;
        for (uint32_t i = 0; i < tl::kMaxEndpoints; ++i) {
            tl::TopicEndpointEntry& e = h->endpoints[i];
            if (!live(e.state)) {
                if (free_entry == kOverflowEntry) free_entry = i;
                continue;
            }
            if (e.slot == member_.slot && e.incarnation == member_.incarnation &&
                std::memcmp(e.node, name, sizeof name) == 0) {
                ++e.count;
                e.roles.fetch_or(roles, std::memory_order_relaxed);
                return i;
            }
        }
        if (free_entry == kOverflowEntry) return kOverflowEntry;
        tl::TopicEndpointEntry& e = h->endpoints[free_entry];
        e.slot = member_.slot;
        e.incarnation = member_.incarnation;
        e.pid = static_cast<int32_t>(getpid());
        e.count = 1;
        std::memcpy(e.node, name, sizeof name);
        e.roles.store(roles, std::memory_order_relaxed);
        e.state.store(static_cast<uint32_t>(tl::EntryState::Live), std::memory_order_relaxed);
        h->endpoint_limit = std::max(std::min(h->endpoint_limit, tl::kMaxEndpoints), free_entry + 1);
        return free_entry;
    };
    uint32_t entry = claim();
    if (entry == kOverflowEntry) {
        reap_dead_users(h);  // entries of processes that died without closing the topic
        entry = claim();
    }
    return entry;  // kOverflowEntry: not listed by discovery; nothing else depends on it
}

void TopicRing::note_roles(uint32_t entry, uint32_t roles) noexcept {
    if (entry < tl::kMaxEndpoints) header_->endpoints[entry].roles.fetch_or(roles, std::memory_order_relaxed);
}

void TopicRing::remove_endpoint(uint32_t entry) noexcept {
    if (!header_ || entry >= tl::kMaxEndpoints) return;
    RobustLock guard(header_->mutex, std::nothrow);
    if (!guard.owns_lock()) return;  // freed with our user entry when the topic is next reaped
    tl::TopicHeader* h = header_;
    tl::TopicEndpointEntry& e = h->endpoints[entry];
    if (!live(e.state) || !(ProcessRef{e.slot, e.incarnation} == member_)) return;  // reaped meanwhile
    if (e.count > 1) {
        --e.count;
        return;
    }
    e.state.store(static_cast<uint32_t>(tl::EntryState::Free), std::memory_order_relaxed);
    uint32_t limit = std::min(h->endpoint_limit, tl::kMaxEndpoints);
    while (limit > 0 && !live(h->endpoints[limit - 1].state)) --limit;
    h->endpoint_limit = limit;
}

namespace {

constexpr std::chrono::milliseconds kLockTimeout{100};

/// Copies the header of the topic object `shm` (a full name, "/horus.<ns>.topic.<name>").
bool inspect(const std::string& shm, const std::string& name, TopicInfo& out) {
    ShmObject seg;
    try {
        seg = ShmObject::open_existing(shm, 0, false);
    } catch (const ShmError&) {
        return false;  // not ours, empty, or cannot be mapped now: not a topic we can show
    }
    if (!seg.valid()) return false;  // gone meanwhile
    const uint32_t capacity = topic_segment_capacity(seg);
    auto* h = static_cast<tl::TopicHeader*>(seg.data());
    if (capacity == 0 || h->ready.load(std::memory_order_acquire) == 0) return false;
    const Session& session = Session::instance();
    TopicInfo info;
    info.name = name;
    info.kind = h->kind.load(std::memory_order_relaxed);
    info.type_hash = h->type_hash.load(std::memory_order_acquire);
    if (info.type_hash != 0) info.type_name = printable(h->type_name, tl::kTypeNameCapacity);
    info.type_description = topic_type_str(h);
    info.capacity = capacity;
    info.messages = h->write_seq.load(std::memory_order_acquire);
    info.last_send_ns = h->last_send_ns.load(std::memory_order_relaxed);
    // The tables below change under the mutex. A holder that stopped (SIGSTOP, a
    // debugger) or a corrupt mutex word must not hang a tool: after kLockTimeout the
    // topic is listed without them (complete = false).
    RobustLock guard(h->mutex, kLockTimeout);
    if (!guard.owns_lock()) {
        info.complete = false;
        out = std::move(info);
        return true;
    }
    if (h->destroyed.load(std::memory_order_acquire)) return false;
    auto live_user = [&](uint32_t slot, uint64_t incarnation) {
        for (const auto& user : h->users)
            if (live(user.state) && user.slot == slot && user.incarnation == incarnation)
                return session.is_live(ProcessRef{slot, incarnation});
        return false;
    };
    for (const auto& user : h->users)
        if (live(user.state) && session.is_live(ProcessRef{user.slot, user.incarnation})) ++info.processes;
    if (info.processes == 0) return false;  // every user died: reclamation tears it down
    const uint32_t limit = std::min(h->endpoint_limit, tl::kMaxEndpoints);
    for (uint32_t i = 0; i < limit; ++i) {
        const tl::TopicEndpointEntry& e = h->endpoints[i];
        if (!live(e.state) || !live_user(e.slot, e.incarnation)) continue;
        const uint32_t roles = e.roles.load(std::memory_order_relaxed);
        info.endpoints.push_back(TopicEndpointInfo{e.pid, readable_text(e.node, tl::kNodeNameCapacity),
                                                   (roles & tl::kPublishes) != 0, (roles & tl::kSubscribes) != 0,
                                                   e.count});
    }
    out = std::move(info);
    return true;
}

}  // namespace

bool discover_topic(const std::string& name, TopicInfo& out) {
    validate_topic_name(name);
    Pool::instance();  // attaches this process: liveness is the session's
    return inspect(shm_name("topic." + name), name, out);
}

std::vector<TopicInfo> discover_topics() {
    Pool::instance();
    const std::string prefix = shm_file_prefix(shm_namespace()) + "topic.";
    std::vector<TopicInfo> topics;
    for (const std::string& object : list_namespace_objects(shm_namespace())) {
        if (object.compare(0, prefix.size(), prefix) != 0) continue;
        const std::string name = object.substr(prefix.size());
        TopicInfo info;
        if (inspect("/" + object, name, info)) topics.push_back(std::move(info));
    }
    std::sort(topics.begin(), topics.end(), [](const TopicInfo& a, const TopicInfo& b) { return a.name < b.name; });
    return topics;
}

}  // namespace horus

// node_registry.cpp — the namespace's table of running nodes (node_registry.hpp).
#include "horus/sched/node_registry.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <mutex>
#include <unistd.h>

#include "horus/base/control_object.hpp"
#include "horus/base/error.hpp"
#include "horus/base/robust_mutex.hpp"
#include "horus/msg/utf8.hpp"
#include "horus/pool/pool.hpp"
#include "horus/session/namespace_name.hpp"
#include "horus/session/session.hpp"

namespace horus {
namespace nl = node_registry_layout;
namespace {

int64_t realtime_ns() {
    timespec t{};
    clock_gettime(CLOCK_REALTIME, &t);
    return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}

/// This process's mapping of the registry, opened (or created) on first use.
class Registry {
  public:
    static Registry& instance() {
        static auto* r = new Registry();  // never destroyed: registrations may end at exit
        return *r;
    }

    /// The control object, created if missing (create = false: nullptr if it does not exist).
    nl::NodeRegistryControl* control(bool create) {
        std::lock_guard<std::mutex> g(mutex_);
        if (shm_.valid()) return static_cast<nl::NodeRegistryControl*>(shm_.data());
        const std::string name = shm_name("nodes");
        if (!create) {
            ShmObject existing;
            try {
                existing = ShmObject::open_existing(name, 0, false);
            } catch (const ShmError&) {
                return nullptr;  // foreign, empty or not mappable: nothing we can list
            }
            if (!existing.valid() || existing.size() != sizeof(nl::NodeRegistryControl)) return nullptr;
            auto* c = static_cast<nl::NodeRegistryControl*>(existing.data());
            if (c->ready.load(std::memory_order_acquire) == 0 || c->magic != nl::kRegistryMagic ||
                c->version != nl::kRegistryVersion || c->control_size != sizeof(nl::NodeRegistryControl))
                return nullptr;
            shm_ = std::move(existing);
            return c;
        }
        shm_ = open_control_object(name, sizeof(nl::NodeRegistryControl), nl::kRegistryMagic, nl::kRegistryVersion,
                                   "horus node registry", [](void* p) {
                                       init_robust_mutex(static_cast<nl::NodeRegistryControl*>(p)->mutex);
                                   });
        return static_cast<nl::NodeRegistryControl*>(shm_.data());
    }

  private:
    std::mutex mutex_;
    ShmObject shm_;
};

/// Copies `names` '\n'-separated into `out` (capacity bytes, NUL-terminated); names
/// that do not fit whole are left out.
void join_names(const std::vector<std::string>& names, char* out, std::size_t capacity) {
    std::memset(out, 0, capacity);
    std::size_t used = 0;
    for (const std::string& n : names) {
        const std::size_t need = n.size() + (used ? 1 : 0);
        if (used + need + 1 > capacity) break;
        if (used) out[used++] = '\n';
        std::memcpy(out + used, n.data(), n.size());
        used += n.size();
    }
}

std::vector<std::string> split_names(const char* text, std::size_t capacity) {
    std::vector<std::string> names;
    std::string current;
    for (std::size_t i = 0; i < capacity && text[i]; ++i) {
        const char c = text[i];
        if (c == '\n') {
            if (!current.empty()) names.push_back(std::move(current));
            current.clear();
        } else {
            current.push_back(c >= 0x20 && c < 0x7f ? c : '?');
        }
    }
    if (!current.empty()) names.push_back(std::move(current));
    return names;
}

class NodeRegistryParticipant final : public ReclaimParticipant {
  public:
    bool clear_dead(std::span<const ProcessRef> dead) noexcept override {
        nl::NodeRegistryControl* c = nullptr;
        try {
            c = Registry::instance().control(false);
        } catch (...) {
            return true;  // nothing this process can see
        }
        if (!c) return true;
        RobustLock guard(c->mutex, std::chrono::milliseconds(100));
        if (!guard.owns_lock()) return true;  // they stay hidden (not live) and are reused by registrations
        for (nl::NodeEntry& e : c->nodes) {
            if (e.state.load(std::memory_order_relaxed) != static_cast<uint32_t>(nl::NodeState::Live)) continue;
            for (const ProcessRef& p : dead)
                if (p.slot == e.slot && p.incarnation == e.incarnation)
                    e.state.store(static_cast<uint32_t>(nl::NodeState::Free), std::memory_order_relaxed);
        }
        return true;
    }
};

}  // namespace

NodeRegistration::NodeRegistration(const NodeDescription& node) {
    Pool::instance();  // attached: the entry names this process
    Session& session = Session::instance();
    nl::NodeRegistryControl* c = Registry::instance().control(true);
    RobustLock guard(c->mutex, std::chrono::seconds(1));
    if (!guard.owns_lock()) return;  // a stopped holder or a corrupt registry: run unlisted
    const ProcessRef me = session.self();
    for (nl::NodeEntry& e : c->nodes) {
        const bool live = e.state.load(std::memory_order_relaxed) == static_cast<uint32_t>(nl::NodeState::Live);
        if (live && session.is_live(ProcessRef{e.slot, e.incarnation})) continue;  // (a dead one is reused)
        e.slot = me.slot;
        e.incarnation = me.incarnation;
        e.pid = static_cast<int32_t>(getpid());
        e.language = static_cast<uint32_t>(node.language);
        std::memset(e.name, 0, sizeof e.name);
        const std::string_view kept = utf8_prefix(node.name, sizeof e.name - 1);
        std::memcpy(e.name, kept.data(), kept.size());
        e.rate_hz = node.rate_hz;
        e.order = node.order;
        e.started_ns = realtime_ns();
        join_names(node.subs, e.subs, sizeof e.subs);
        join_names(node.pubs, e.pubs, sizeof e.pubs);
        e.budget_ns = node.budget_ns;
        e.deadline_ns = node.deadline_ns;
        e.watchdog_ns = node.watchdog_ns;
        e.on_miss = node.on_miss;
        e.failure_policy = node.failure_policy;
        e.priority = node.priority;
        e.core = node.core;
        e.own_thread = node.own_thread ? 1 : 0;
        for (auto* stat : {&e.ticks, &e.overruns, &e.errors, &e.tick_ns_total, &e.tick_ns_max, &e.misses,
                           &e.budget_overruns, &e.skipped, &e.restarts, &e.watchdog_expired, &e.safe_mode_entries,
                           &e.tick_ns_p99, &e.jitter_ns_p50, &e.jitter_ns_p99, &e.jitter_ns_max})
            stat->store(0, std::memory_order_relaxed);
        e.in_safe_mode.store(0, std::memory_order_relaxed);
        e.last_tick_ns.store(0, std::memory_order_relaxed);
        e.state.store(static_cast<uint32_t>(nl::NodeState::Live), std::memory_order_relaxed);
        entry_ = &e;
        owner_ = me;
        return;
    }
    // Full: the node runs unlisted.
}

NodeRegistration::~NodeRegistration() { close(); }

NodeRegistration::NodeRegistration(NodeRegistration&& other) noexcept
    : entry_(std::exchange(other.entry_, nullptr)), owner_(other.owner_) {}

NodeRegistration& NodeRegistration::operator=(NodeRegistration&& other) noexcept {
    if (this != &other) {
        close();
        entry_ = std::exchange(other.entry_, nullptr);
        owner_ = other.owner_;
    }
    return *this;
}

void NodeRegistration::update(const NodeStats& st, bool in_safe_mode, bool percentiles) noexcept {
    if (!entry_) return;
    constexpr auto relaxed = std::memory_order_relaxed;
    entry_->ticks.store(st.ticks, relaxed);
    entry_->overruns.store(st.overruns, relaxed);
    entry_->errors.store(st.errors, relaxed);
    entry_->tick_ns_total.store(static_cast<uint64_t>(st.total_tick_s * 1e9), relaxed);
    entry_->tick_ns_max.store(static_cast<uint64_t>(st.max_tick_s * 1e9 + 0.5), relaxed);
    entry_->misses.store(st.misses, relaxed);
    entry_->budget_overruns.store(st.budget_overruns, relaxed);
    entry_->skipped.store(st.skipped, relaxed);
    entry_->restarts.store(st.restarts, relaxed);
    entry_->watchdog_expired.store(st.watchdog_expired.load(relaxed), relaxed);
    entry_->safe_mode_entries.store(st.safe_mode_entries, relaxed);
    entry_->in_safe_mode.store(in_safe_mode ? 1 : 0, relaxed);
    if (percentiles) {
        entry_->tick_ns_p99.store(st.tick_ns.percentile(0.99), relaxed);
        entry_->jitter_ns_p50.store(st.jitter_ns.percentile(0.50), relaxed);
        entry_->jitter_ns_p99.store(st.jitter_ns.percentile(0.99), relaxed);
        entry_->jitter_ns_max.store(st.jitter_ns.max(), relaxed);
    }
    timespec t{};
    clock_gettime(CLOCK_REALTIME_COARSE, &t);
    entry_->last_tick_ns.store(int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec, relaxed);
}

void NodeRegistration::close() noexcept {
    nl::NodeEntry* e = std::exchange(entry_, nullptr);
    if (!e) return;
    if (!(owner_ == Session::instance().self())) return;  // inherited through fork: the parent's entry
    nl::NodeRegistryControl* c = nullptr;
    try {
        c = Registry::instance().control(false);
    } catch (...) {
        return;
    }
    if (!c) return;
    RobustLock guard(c->mutex, std::chrono::milliseconds(100));
    if (!guard.owns_lock()) return;  // left hidden once we exit, and reused
    if (e->slot == owner_.slot && e->incarnation == owner_.incarnation)
        e->state.store(static_cast<uint32_t>(nl::NodeState::Free), std::memory_order_relaxed);
}

std::vector<NodeInfo> discover_nodes() {
    Pool::instance();
    const Session& session = Session::instance();
    std::vector<NodeInfo> nodes;
    nl::NodeRegistryControl* c = Registry::instance().control(false);
    if (!c) return nodes;
    {
        RobustLock guard(c->mutex, std::chrono::milliseconds(100));
        if (!guard.owns_lock())
            throw ShmError("the horus node registry '/dev/shm" + shm_name("nodes") +
                           "' stayed locked for 100 ms (a process holding it is stopped, or the object is "
                           "corrupt; `horus clean --force` removes a namespace no process uses)");
        for (const nl::NodeEntry& e : c->nodes) {
            if (e.state.load(std::memory_order_relaxed) != static_cast<uint32_t>(nl::NodeState::Live)) continue;
            if (!session.is_live(ProcessRef{e.slot, e.incarnation})) continue;
            NodeInfo n;
            n.name = readable_text(e.name, sizeof e.name);
            n.language = static_cast<nl::Language>(e.language);
            n.pid = e.pid;
            n.rate_hz = e.rate_hz;
            n.order = e.order;
            n.subs = split_names(e.subs, sizeof e.subs);
            n.pubs = split_names(e.pubs, sizeof e.pubs);
            n.ticks = e.ticks.load(std::memory_order_relaxed);
            n.overruns = e.overruns.load(std::memory_order_relaxed);
            n.errors = e.errors.load(std::memory_order_relaxed);
            n.tick_ns_total = e.tick_ns_total.load(std::memory_order_relaxed);
            n.tick_ns_max = e.tick_ns_max.load(std::memory_order_relaxed);
            n.last_tick_ns = e.last_tick_ns.load(std::memory_order_relaxed);
            n.started_ns = e.started_ns;
            n.misses = e.misses.load(std::memory_order_relaxed);
            n.budget_overruns = e.budget_overruns.load(std::memory_order_relaxed);
            n.skipped = e.skipped.load(std::memory_order_relaxed);
            n.restarts = e.restarts.load(std::memory_order_relaxed);
            n.watchdog_expired = e.watchdog_expired.load(std::memory_order_relaxed);
            n.safe_mode_entries = e.safe_mode_entries.load(std::memory_order_relaxed);
            n.tick_ns_p99 = e.tick_ns_p99.load(std::memory_order_relaxed);
            n.jitter_ns_p50 = e.jitter_ns_p50.load(std::memory_order_relaxed);
            n.jitter_ns_p99 = e.jitter_ns_p99.load(std::memory_order_relaxed);
            n.jitter_ns_max = e.jitter_ns_max.load(std::memory_order_relaxed);
            n.in_safe_mode = e.in_safe_mode.load(std::memory_order_relaxed) != 0;
            n.budget_ns = e.budget_ns;
            n.deadline_ns = e.deadline_ns;
            n.watchdog_ns = e.watchdog_ns;
            n.on_miss = e.on_miss;
            n.failure_policy = e.failure_policy;
            n.priority = e.priority;
            n.core = e.core;
            n.own_thread = e.own_thread != 0;
            nodes.push_back(std::move(n));
        }
    }
    std::sort(nodes.begin(), nodes.end(),
              [](const NodeInfo& a, const NodeInfo& b) { return a.name != b.name ? a.name < b.name : a.pid < b.pid; });
    return nodes;
}

ReclaimParticipant& node_registry_participant() {
    static auto* participant = new NodeRegistryParticipant();  // never destroyed: used at exit
    return *participant;
}

}  // namespace horus

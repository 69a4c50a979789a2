// node_registry.hpp — the nodes that run in the namespace, visible to every process
// ("/horus.<ns>.nodes"): name, process, rate, topics and tick statistics.
//
// horus::run and Python's horus.run register each node for the length of a run
// (NodeRegistration) and update its statistics after every tick. Tools read them with
// discover_nodes() (horus.nodes(), `horus node list`).
//
// Who writes what (NodeRegistryControl below):
//  * `mutex` (robust, process-shared) guards claiming and freeing entries and the
//    description fields (name ... pubs). A registration claims a Free entry; its
//    destructor, or reclamation for a dead process (node_registry_participant()),
//    frees it. Lock order: the namespace lock, then this mutex (reclamation takes
//    both; nothing takes the namespace lock while holding this one).
//  * The statistics (ticks ... last_tick_ns) are written only by the thread that runs
//    the node, with relaxed atomics, and read by anyone: each value is whole, and
//    values may be one tick apart from each other. No ordering is needed: they are
//    informational and never steer another process.
//  * Readers report only entries whose process is live (Session::is_live), so a dead
//    process's nodes vanish at once and their entries are freed by the next reclamation.
//  * Nobody waits for the mutex without a limit: a stopped holder or a corrupt word
//    makes a registration run unlisted (after 1 s), discover_nodes() throw ShmError
//    (after 100 ms) and reclamation leave the entries (hidden, reused later).
#pragma once

#include <atomic>
#include <cstdint>
#include <pthread.h>
#include <string>
#include <vector>

#include "horus/sched/tick_stats.hpp"
#include "horus/session/participant.hpp"

namespace horus {

namespace node_registry_layout {

inline constexpr uint64_t kRegistryMagic = 0x5345444f4e5355ull;  // "USNODES"
inline constexpr uint32_t kRegistryVersion = 3;
inline constexpr uint32_t kMaxNodes = 128;
inline constexpr std::size_t kNameCapacity = 64;
inline constexpr std::size_t kTopicsCapacity = 2048;  // topic names, '\n'-separated

enum class NodeState : uint32_t { Free = 0, Live = 1 };
enum class Language : uint32_t { Cpp = 1, Python = 2 };

struct alignas(64) NodeEntry {
    std::atomic<uint32_t> state;  // NodeState (under the mutex)
    uint32_t slot;                // owner process: session slot and incarnation (under the mutex)
    uint64_t incarnation;
    int32_t pid;
    uint32_t language;
    char name[kNameCapacity];     // UTF-8, NUL-terminated (truncated at a character boundary)
    double rate_hz;
    int64_t order;
    int64_t started_ns;           // CLOCK_REALTIME when the run registered it
    char subs[kTopicsCapacity];   // NUL-terminated; names that do not fit are left out
    char pubs[kTopicsCapacity];
    // Owner thread only (relaxed); anyone reads.
    alignas(64) std::atomic<uint64_t> ticks;
    std::atomic<uint64_t> overruns;
    std::atomic<uint64_t> errors;
    std::atomic<uint64_t> tick_ns_total;
    std::atomic<uint64_t> tick_ns_max;
    std::atomic<int64_t> last_tick_ns;  // CLOCK_REALTIME at the end of the latest tick
    std::atomic<uint64_t> misses;
    std::atomic<uint64_t> budget_overruns;
    std::atomic<uint64_t> skipped;
    std::atomic<uint64_t> restarts;
    std::atomic<uint64_t> watchdog_expired;
    std::atomic<uint64_t> safe_mode_entries;
    std::atomic<uint64_t> tick_ns_p99;    // refreshed every 16 ticks (tick_stats.hpp histogram)
    std::atomic<uint64_t> jitter_ns_p50;
    std::atomic<uint64_t> jitter_ns_p99;
    std::atomic<uint64_t> jitter_ns_max;
    std::atomic<uint32_t> in_safe_mode;
    // The node's settings (under the mutex, like the description above).
    int64_t budget_ns;            // 0: none
    int64_t deadline_ns;          // 0: none
    int64_t watchdog_ns;          // 0: none
    uint32_t on_miss;             // MissPolicy
    uint32_t failure_policy;      // FailurePolicy::Kind
    int32_t priority;             // SCHED_FIFO priority asked for, 0: none
    int32_t core;                 // CPU asked for, -1: none
    uint32_t own_thread;          // 1: the node runs in a thread of its own
};

struct NodeRegistryControl {
    uint64_t magic;  // begins like base/control_object.hpp's ControlPrefix
    uint32_t version;
    uint32_t control_size;
    std::atomic<uint32_t> ready;
    pthread_mutex_t mutex;
    NodeEntry nodes[kMaxNodes];
};

}  // namespace node_registry_layout

struct NodeDescription {
    std::string name;
    node_registry_layout::Language language = node_registry_layout::Language::Cpp;
    double rate_hz = 0;
    int64_t order = 0;
    std::vector<std::string> subs{};
    std::vector<std::string> pubs{};
    int64_t budget_ns = 0, deadline_ns = 0, watchdog_ns = 0;
    uint32_t on_miss = 0, failure_policy = 0;
    int32_t priority = 0, core = -1;
    bool own_thread = false;
};

/// One node of a running run(): listed while the object lives (when the table of
/// kMaxNodes is full the node runs unlisted: listed() is false). Move-only.
class NodeRegistration {
  public:
    NodeRegistration() = default;
    /// Throws ShmError when the registry cannot be opened; runs unlisted when it cannot
    /// be locked within 1 s.
    explicit NodeRegistration(const NodeDescription& node);
    ~NodeRegistration();
    NodeRegistration(NodeRegistration&& other) noexcept;
    NodeRegistration& operator=(NodeRegistration&& other) noexcept;
    NodeRegistration(const NodeRegistration&) = delete;
    NodeRegistration& operator=(const NodeRegistration&) = delete;

    /// Copies `stats` into the entry (percentiles too when `percentiles`), stamps last_tick_ns.
    void update(const NodeStats& stats, bool in_safe_mode, bool percentiles) noexcept;
    /// Frees the entry now (the destructor does it otherwise).
    void close() noexcept;
    bool listed() const { return entry_ != nullptr; }

  private:
    node_registry_layout::NodeEntry* entry_ = nullptr;
    ProcessRef owner_{};
};

struct NodeInfo {
    std::string name;
    node_registry_layout::Language language = node_registry_layout::Language::Cpp;
    int32_t pid = 0;
    double rate_hz = 0;
    int64_t order = 0;
    std::vector<std::string> subs, pubs;
    uint64_t ticks = 0, overruns = 0, errors = 0;
    uint64_t tick_ns_total = 0, tick_ns_max = 0;
    int64_t last_tick_ns = 0, started_ns = 0;
    uint64_t misses = 0, budget_overruns = 0, skipped = 0, restarts = 0, watchdog_expired = 0;
    uint64_t safe_mode_entries = 0, tick_ns_p99 = 0, jitter_ns_p50 = 0, jitter_ns_p99 = 0, jitter_ns_max = 0;
    bool in_safe_mode = false;
    int64_t budget_ns = 0, deadline_ns = 0, watchdog_ns = 0;
    uint32_t on_miss = 0, failure_policy = 0;
    int32_t priority = 0, core = -1;
    bool own_thread = false;
};

/// Every listed node of a live process in this namespace, sorted by name, then pid.
/// Throws ShmError when the registry's mutex is not available within 100 ms.
std::vector<NodeInfo> discover_nodes();

/// Frees the entries of dead processes during reclamation (registered by compose.cpp).
ReclaimParticipant& node_registry_participant();

}  // namespace horus

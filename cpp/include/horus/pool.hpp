// pool.hpp — the shared-memory tensor pool of one namespace.
//
// The pool hands out 64-byte aligned blocks from shared-memory segments. It is
// created and sized on first use (Pool::instance()), grows by adding segments
// in size classes (quarter steps between powers of two, 256 B upwards) and is
// capped by HORUS_POOL_MAX_BYTES (default: half of /dev/shm). Each attached
// process owns one slot of the process table; a block is held by a process
// while its bit is set in the block's state word, so when a process dies its
// bits can be cleared by anyone (reclaim_dead_processes()), and no block leaks.
//
// Lifetime of the namespace: the last process to detach (normal exit) unlinks
// every shared-memory object of the namespace. A crash leaves the objects
// behind until the next process attaches (which reclaims the dead process's
// references) or `horus clean` runs.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "horus/block.hpp"
#include "horus/pool_layout.hpp"
#include "horus/shm_segment.hpp"

namespace horus {

/// A point-in-time picture of the pool, for tests and operators.
struct PoolStats {
    std::string namespace_name;
    uint64_t blocks_in_use = 0;    // blocks held by any process or topic slot
    uint64_t bytes_in_use = 0;     // sum of the block sizes of those blocks
    uint64_t blocks_total = 0;     // blocks in all segments
    uint64_t capacity_bytes = 0;   // payload bytes of all segments
    uint64_t reserved_bytes = 0;   // shared memory reserved (headers included)
    uint64_t max_bytes = 0;        // the cap (HORUS_POOL_MAX_BYTES)
    uint32_t segments = 0;
    uint32_t processes = 0;        // live attached processes
    uint64_t local_blocks = 0;     // blocks this process holds
    uint64_t reclaimed_processes = 0;  // dead processes reclaimed so far
};

/// One segment as mapped into this process, plus this process's per-block
/// handle counts (guarded by Pool::local_mutex_).
struct MappedSegment {
    Pool* pool = nullptr;
    ShmSegment shm;
    uint32_t index = 0;
    uint32_t block_count = 0;
    uint64_t block_size = 0;
    layout::SegmentHeader* header = nullptr;
    std::atomic<uint64_t>* words = nullptr;
    std::byte* payload = nullptr;
    std::unique_ptr<uint32_t[]> local_counts;
};

class Pool {
  public:
    /// The pool of this process's namespace; attaches (creating it if needed) on first call.
    static Pool& instance();

    /// A new block of at least `bytes` bytes held by this process (contents unspecified).
    /// Throws PoolExhausted with the sizes when the cap is reached.
    Block allocate(std::size_t bytes);

    /// Takes a reference to a block named by `ref` (e.g. read from a topic slot).
    /// Throws StaleReference if the block was freed meanwhile, ShmError if `ref`
    /// names no valid segment/block.
    Block acquire(const BlockRef& ref);

    /// The block that contains [ptr, ptr+len) if it lies inside one of this
    /// process's mapped blocks; an empty Block otherwise. `offset` receives
    /// the position of ptr inside the block.
    Block find(const void* ptr, std::size_t len, std::size_t* offset);

    /// Topic ring references (taken and dropped by topics, not by processes).
    bool add_ring_ref(const BlockRef& ref);
    void remove_ring_ref(const BlockRef& ref);

    /// The topic layer's reclamation (topic_ring.cpp registers reclaim_topics_locked at
    /// static initialisation). It runs with the namespace lock held, after dead processes
    /// were reaped, on reclaim_dead_processes() and when an allocation hits the cap: it
    /// tears down topics whose users all died and reconciles ring counts (see below).
    using ExtraReclaimer = std::size_t (*)(Pool& pool);
    static void set_extra_reclaimer(ExtraReclaimer fn) { extra_reclaimer_.store(fn); }

    /// Ring-reference truth: (segment << 32 | block) -> (generation, topic slots naming it).
    using RingCounts = std::unordered_map<uint64_t, std::pair<uint32_t, uint32_t>>;

    /// Sets every live block's ring count to the number of topic slots that name it.
    /// Call only with the namespace lock held AND every topic of the namespace locked:
    /// then no publisher is between taking and placing a ring reference, so `truth` is
    /// exact, and counts a killed publisher left behind are repaired. Free blocks are
    /// never touched. Returns how many block words it corrected.
    std::size_t reconcile_ring_counts_locked(const RingCounts& truth);

    /// The namespace lock (the pool's robust control mutex). Topic creation holds it, so
    /// a reconciler holding it sees every topic that exists.
    void lock_namespace() { lock_control(); }
    void unlock_namespace() { unlock_control(); }

    /// Clears the references of processes that died and runs the topic reclamation;
    /// returns how many processes, topics and block words were reclaimed.
    std::size_t reclaim_dead_processes();

    PoolStats stats();

    /// Smallest block size that fits `bytes` (the size class).
    static uint64_t class_block_size(uint32_t size_class);
    static uint32_t size_class_for(uint64_t bytes);

    /// Largest single allocation the pool accepts (bytes).
    uint64_t max_bytes() const { return max_bytes_; }
    uint32_t process_slot() const { return slot_; }

    /// Leaves the namespace: releases this process's references and process slot,
    /// and unlinks the namespace's shared memory if no live process remains.
    /// Runs automatically at exit; afterwards handles are inert.
    void detach() noexcept;

    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

  private:
    friend class Block;
    friend struct PoolTestAccess;  // fuzz targets and tests: fresh Pools over a corrupted namespace
    Pool();
    void attach();
    void after_fork_in_child() noexcept;

    MappedSegment* segment(uint32_t index);  // maps on first use; nullptr if absent
    MappedSegment* map_segment(uint32_t index);
    Block allocate_in(MappedSegment* seg);
    uint32_t create_segment(uint32_t size_class, uint64_t bytes);  // under control mutex
    void lock_control();
    void unlock_control();
    void reclaim_slot_locked(uint32_t slot);
    std::size_t reap_dead_locked();
    std::size_t reap_and_reclaim_topics_locked();  // reap, then the topic layer if anyone died

    void retain_local(MappedSegment* seg, uint32_t index);
    void release_local(MappedSegment* seg, uint32_t index, uint32_t generation) noexcept;

    ShmSegment control_shm_;
    layout::PoolControl* control_ = nullptr;
    // No slot until attach() picks one. (Was 0: reap_dead_locked() skips our own
    // slot, so while attaching it skipped slot 0 and a crashed process in slot 0
    // was never reclaimed by the next process to attach.)
    uint32_t slot_ = layout::kMaxProcesses;
    uint64_t max_bytes_ = 0;
    std::atomic<bool> detached_{false};
    std::atomic<bool> dev_shm_full_{false};  // set by create_segment (under the control mutex)
    static inline std::atomic<ExtraReclaimer> extra_reclaimer_{nullptr};  // constant-initialised
    std::array<std::atomic<MappedSegment*>, layout::kMaxSegments> mapped_{};
    std::atomic<uint32_t> mapped_limit_{0};  // 1 + highest mapped index (find() scans only these)
    std::mutex map_mutex_;    // mapping new segments
    std::mutex local_mutex_;  // process-local handle counts
};

}  // namespace horus

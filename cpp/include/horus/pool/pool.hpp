// pool.hpp — the shared-memory tensor pool of one namespace.
//
// The pool hands out 64-byte aligned blocks from shared-memory segments. It is
// created and sized on first use (Pool::instance()), grows by adding segments
// in size classes (quarter steps between powers of two, 256 B upwards) and is
// capped by HORUS_POOL_MAX_BYTES (default: half of /dev/shm). A block is held by
// a process while the bit of its session slot is set in the block's state word
// (block_word.hpp), so when a process dies its bits can be cleared by anyone and
// no block leaks: the pool is a reclamation participant of the session
// (session/participant.hpp) and clears dead slots' bits and repairs ring counts
// there.
//
// Two mappings per segment, both populated: the meta part (header, state words,
// generations: a few KiB) and the payload. Reclamation, statistics and topic ring
// references only need the meta part, so a process never maps payload it does
// not read just to reclaim someone else's references.
//
// Files: pool_environment.cpp (caps, size classes), pool_segments.cpp (creating
// and mapping segments), pool_allocation.cpp (allocation, references, sealing),
// pool_reclaim.cpp (the participant and fork), pool_stats.cpp.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "horus/base/shm_object.hpp"
#include "horus/pool/block.hpp"
#include "horus/pool/pool_layout.hpp"
#include "horus/session/participant.hpp"
#include "horus/session/session.hpp"

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

/// The meta part of one segment (header, state words, generations) as mapped here.
struct SegmentMeta {
    ShmObject shm;
    uint32_t index = 0;
    uint32_t block_count = 0;
    uint64_t block_size = 0;
    layout::SegmentHeader* header = nullptr;
    std::atomic<uint64_t>* words = nullptr;
    std::atomic<uint64_t>* gens = nullptr;
};

/// A segment mapped for use: its meta part, its payload, and this process's
/// per-block handle counts and seals (guarded by Pool::local_mutex_).
struct MappedSegment {
    Pool* pool = nullptr;
    SegmentMeta* meta = nullptr;
    ShmObject payload_shm;
    uint32_t index = 0;
    uint32_t block_count = 0;
    uint64_t block_size = 0;
    std::atomic<uint64_t>* words = nullptr;
    std::atomic<uint64_t>* gens = nullptr;
    std::byte* payload = nullptr;
    std::unique_ptr<uint32_t[]> local_counts;
    std::unique_ptr<std::atomic<uint8_t>[]> local_sealed;
};

class Pool final : public ReclaimParticipant {
  public:
    /// The pool of this process's namespace; attaches (creating it if needed) on first call.
    static Pool& instance();

    /// A new block of at least `bytes` bytes held by this process (contents unspecified).
    /// Throws PoolExhausted with the sizes when the cap is reached.
    Block allocate(std::size_t bytes);

    /// Takes a reference to a block named by `ref` (e.g. read from a topic slot).
    /// Throws StaleReference if that allocation of the block was freed, ShmError if
    /// `ref` names no valid segment/block, NotAttached without a process slot.
    Block acquire(const BlockRef& ref);

    /// The block that contains [ptr, ptr+len) if it lies inside one of this
    /// process's held blocks; an empty Block otherwise. `offset` receives
    /// the position of ptr inside the block.
    Block find(const void* ptr, std::size_t len, std::size_t* offset);

    /// Topic ring references (taken and dropped by topics, not by processes). Never
    /// throw: false when the block is not live with that generation (add) or its
    /// segment cannot be mapped here.
    bool add_ring_ref(const BlockRef& ref) noexcept;
    bool remove_ring_ref(const BlockRef& ref) noexcept;
    /// Whether this process can reach the meta part of `ref`'s block (mapping it now if
    /// needed): Corrupt = the reference names no block of a valid segment (never trusted);
    /// Unreachable = it does, but mapping failed now (EMFILE, ENOMEM), `why` says why.
    enum class Reach { Reachable, Corrupt, Unreachable };
    Reach reach(const BlockRef& ref, std::string* why = nullptr) noexcept {
        if (ref.segment < layout::kMaxSegments)
            if (SegmentMeta* m = metas_[ref.segment].load(std::memory_order_acquire))
                return ref.index < m->block_count ? Reach::Reachable : Reach::Corrupt;
        return reach_slow(ref, why);
    }

    /// Clears the references of processes that died and runs every participant's
    /// reclamation (session/reclamation.cpp); returns how many processes, objects and
    /// block words were reclaimed.
    std::size_t reclaim_dead_processes();

    PoolStats stats();

    /// Smallest block size that fits `bytes` (the size class).
    static uint64_t class_block_size(uint32_t size_class);
    static uint32_t size_class_for(uint64_t bytes);

    uint64_t max_bytes() const { return max_bytes_; }
    /// Throws NotAttached (naming why) unless this process has a slot.
    void require_attached() const {
        if (detached_.load(std::memory_order_relaxed)) throw_not_attached();
    }
    bool attached() const { return !detached_.load(std::memory_order_relaxed); }
    uint32_t process_slot() const { return slot_; }
    Session& session() const { return session_; }

    // ReclaimParticipant (called by the session's reclamation and fork handlers).
    void prepare() override;
    bool clear_dead(std::span<const ProcessRef> dead) noexcept override;
    std::size_t reconcile(const ReferenceCensus& census) noexcept override;
    void prepare_fork(uint32_t child_slot) noexcept override;
    void after_fork_parent() noexcept override;
    void after_fork_child() noexcept override;

    /// The census key of a block (session/participant.hpp).
    static uint64_t census_key(uint32_t segment, uint32_t index) { return (uint64_t{segment} << 32) | index; }

    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

  private:
    friend class Block;
    friend struct PoolTestAccess;  // fuzz targets and tests: fresh Pools over a corrupted namespace
    explicit Pool(Session& session);
    void open_control();
    void attach();

    // Full mapping on first use; nullptr if absent (fast path inline, mapping out of line).
    MappedSegment* segment(uint32_t index) {
        if (index < layout::kMaxSegments)
            if (MappedSegment* seg = mapped_[index].load(std::memory_order_acquire)) return seg;
        return segment_slow(index);
    }
    // Meta part only; nullptr if absent.
    SegmentMeta* meta(uint32_t index) {
        if (index < layout::kMaxSegments)
            if (SegmentMeta* m = metas_[index].load(std::memory_order_acquire)) return m;
        return meta_slow(index);
    }
    SegmentMeta* meta_of(const BlockRef& ref) noexcept;  // its block's segment, if `ref` names a block
    MappedSegment* segment_slow(uint32_t index);
    SegmentMeta* meta_slow(uint32_t index);
    Reach reach_slow(const BlockRef& ref, std::string* why) noexcept;
    [[noreturn]] void throw_not_attached() const;
    SegmentMeta* map_meta_locked(uint32_t index);
    Block allocate_in(MappedSegment* seg);
    uint32_t create_segment(uint32_t size_class);  // under the pool mutex
    Block scan(uint32_t size_class, uint32_t from, uint32_t to);
    [[noreturn]] void throw_exhausted(std::size_t bytes, uint32_t size_class);

    void retain_local(MappedSegment* seg, uint32_t index);
    void release_local(MappedSegment* seg, uint32_t index, uint64_t generation) noexcept;
    bool sealed(const MappedSegment* seg, uint32_t index) const;
    void seal(MappedSegment* seg, uint32_t index);

    Session& session_;
    ShmObject control_shm_;
    layout::PoolControl* control_ = nullptr;
    uint32_t slot_ = session_layout::kNoSlot;  // our holder bit (copy of the session's)
    bool registered_ = false;                   // a participant of the session
    uint64_t max_bytes_ = 0;
    std::atomic<bool> detached_{true};
    std::atomic<bool> dev_shm_full_{false};  // set by create_segment (under the pool mutex)
    std::array<std::atomic<MappedSegment*>, layout::kMaxSegments> mapped_{};
    std::array<std::atomic<SegmentMeta*>, layout::kMaxSegments> metas_{};
    std::atomic<uint32_t> mapped_limit_{0};  // 1 + highest mapped index (find() scans only these)
    std::mutex map_mutex_;    // mapping new segments
    std::mutex local_mutex_;  // process-local handle counts
};

}  // namespace horus

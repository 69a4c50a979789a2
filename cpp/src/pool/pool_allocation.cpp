// pool_allocation.cpp — allocating blocks, taking and dropping references, sealing.
// The word transitions are in block_word.hpp; this file applies them.
#include <cstring>

#include "horus/base/error.hpp"
#include "horus/base/robust_mutex.hpp"
#include "horus/pool/pool.hpp"
#include "pool_internal.hpp"

namespace horus {
namespace bw = block_word;
using namespace pool_internal;

Block Pool::allocate_in(MappedSegment* seg) {
    const uint32_t n = seg->block_count;
    const uint32_t start = seg->meta->header->hint.load(std::memory_order_relaxed) % n;
    const uint32_t slot = slot_;
    for (uint32_t k = 0; k < n; ++k) {
        const uint32_t i = (start + k) % n;
        auto next = update_word(seg->words[i], [slot](uint64_t w) { return bw::allocate(w, slot); });
        if (!next) continue;
        // We are the only holder: nobody else writes this block's generation now.
        const uint64_t gen = bw::next_generation(seg->gens[i].load(std::memory_order_relaxed), bw::tag(*next));
        seg->gens[i].store(gen, std::memory_order_release);
        seg->meta->header->hint.store(i + 1 < n ? i + 1 : 0, std::memory_order_relaxed);
        {
            std::lock_guard<std::mutex> g(local_mutex_);
            seg->local_counts[i] = 1;
            seg->local_sealed[i].store(0, std::memory_order_relaxed);
        }
        return Block(seg, i, gen);
    }
    return {};
}

Block Pool::scan(uint32_t cls, uint32_t from, uint32_t to) {
    for (uint32_t s = from; s < to; ++s) {
        const layout::SegmentEntry& e = control_->segments[s];
        if (e.state.load(std::memory_order_acquire) != layout::kSegmentReady || e.size_class != cls) continue;
        // The mapped (validated) block size decides, not the shared entry, which
        // another process may rewrite after we mapped the segment.
        if (MappedSegment* seg = segment(s))
            if (seg->block_size == class_block_size(cls))
                if (Block b = allocate_in(seg)) return b;
    }
    return {};
}

void Pool::throw_exhausted(std::size_t bytes, uint32_t cls) {
    uint64_t in_use = 0, blocks = 0;
    for (uint32_t s = 0, n = segment_count(control_); s < n; ++s) {
        SegmentMeta* m = nullptr;
        try {
            m = meta(s);
        } catch (const ShmError&) {
        }
        if (!m) continue;
        for (uint32_t i = 0; i < m->block_count; ++i)
            if (!bw::is_free(m->words[i].load(std::memory_order_relaxed))) {
                ++blocks;
                in_use += m->block_size;
            }
    }
    throw PoolExhausted(
        "horus pool exhausted: asked for " + bytes_str(bytes) + " (a " + bytes_str(class_block_size(cls)) +
        " block); " + bytes_str(in_use) + " in use in " + std::to_string(blocks) + " blocks, " +
        bytes_str(control_->reserved_bytes.load()) + " of the cap " + bytes_str(max_bytes_) +
        " reserved (namespace '" + session_.name() + "'). " +
        (dev_shm_full_.exchange(false)
             ? "/dev/shm itself is full: free shared memory (`horus list`, `horus clean`) or enlarge /dev/shm."
             : "Drop messages and array views you no longer need, or raise HORUS_POOL_MAX_BYTES."));
}

Block Pool::allocate(std::size_t bytes) {
    require_attached();
    if (bytes == 0) bytes = 1;
    if (bytes > max_bytes_ || size_class_for(bytes) > kMaxClass)
        throw PoolExhausted("horus pool: a message of " + bytes_str(bytes) + " is larger than the pool cap of " +
                            bytes_str(max_bytes_) + "; raise HORUS_POOL_MAX_BYTES (e.g. HORUS_POOL_MAX_BYTES=8G)");
    const uint32_t cls = size_class_for(bytes);
    const uint32_t seen = segment_count(control_);
    if (Block b = scan(cls, 0, seen)) return b;
    for (int round = 0; round < 2; ++round) {
        uint32_t created = kNoSegment;
        {
            RobustLock lock(control_->mutex, "the pool lock");
            if (Block b = scan(cls, round == 0 ? seen : 0, segment_count(control_))) return b;  // grown meanwhile
            created = create_segment(cls);
        }
        if (created != kNoSegment) {
            if (MappedSegment* seg = segment(created))
                if (Block b = allocate_in(seg)) return b;
            if (Block b = scan(cls, 0, segment_count(control_))) return b;  // someone took it first
            continue;
        }
        // At the cap: free what dead processes still hold (never with the pool lock
        // held: the namespace lock comes first in the lock order), then look again.
        if (round == 0 && session_.reclaim_dead() > 0)
            if (Block b = scan(cls, 0, segment_count(control_))) return b;
        if (round == 1) break;
    }
    if (Block b = scan(cls, 0, segment_count(control_))) return b;  // freed meanwhile
    throw_exhausted(bytes, cls);
}

Block Pool::acquire(const BlockRef& ref) {
    require_attached();
    MappedSegment* seg = segment(ref.segment);
    if (!seg)
        throw ShmError("block reference names pool segment " + std::to_string(ref.segment) +
                       ", which does not exist");
    if (ref.index >= seg->block_count)
        throw ShmError("block reference names block " + std::to_string(ref.index) + " of segment " +
                       std::to_string(ref.segment) + ", which has only " + std::to_string(seg->block_count) +
                       " blocks");
    auto stale = [&](const char* what) {
        return StaleReference("block " + std::to_string(ref.segment) + "/" + std::to_string(ref.index) +
                              " generation " + std::to_string(ref.generation) + " " + what);
    };
    if (ref.generation == 0) throw stale("was never allocated");
    std::lock_guard<std::mutex> g(local_mutex_);
    uint32_t& local = seg->local_counts[ref.index];
    if (local > 0) {
        // Our bit is set, so the block is live and its generation cannot change.
        if (seg->gens[ref.index].load(std::memory_order_acquire) != ref.generation)
            throw stale("was freed and reused");
        ++local;
    } else {
        const uint32_t slot = slot_;
        const uint32_t t = bw::tag_of(ref.generation);
        auto next = update_word(seg->words[ref.index], [&](uint64_t w) { return bw::add_holder(w, t, slot); });
        if (!next) throw stale("was already freed");
        // Holding our bit, the generation is stable: compare all 64 bits (block_word.hpp).
        if (seg->gens[ref.index].load(std::memory_order_acquire) != ref.generation) {
            update_word(seg->words[ref.index], [&](uint64_t w) { return bw::remove_holder(w, t, slot); });
            throw stale("was freed and reused");
        }
        local = 1;
        seg->local_sealed[ref.index].store(0, std::memory_order_relaxed);
    }
    return Block(seg, ref.index, ref.generation);
}

Block Pool::find(const void* ptr, std::size_t len, std::size_t* offset) {
    auto* p = static_cast<const std::byte*>(ptr);
    const uint32_t limit = mapped_limit_.load(std::memory_order_acquire);
    for (uint32_t s = 0; s < limit; ++s) {
        MappedSegment* seg = mapped_[s].load(std::memory_order_acquire);
        if (!seg) continue;
        const std::byte* begin = seg->payload;
        const std::byte* end = begin + uint64_t{seg->block_count} * seg->block_size;
        if (p < begin || p >= end) continue;
        auto i = static_cast<uint32_t>(static_cast<uint64_t>(p - begin) / seg->block_size);
        std::size_t off = static_cast<std::size_t>(p - begin) - std::size_t{i} * seg->block_size;
        if (off + len > seg->block_size) return {};
        std::lock_guard<std::mutex> g(local_mutex_);
        if (seg->local_counts[i] == 0) return {};
        ++seg->local_counts[i];
        if (offset) *offset = off;
        return Block(seg, i, seg->gens[i].load(std::memory_order_acquire));
    }
    return {};
}

void Pool::retain_local(MappedSegment* seg, uint32_t index) {
    std::lock_guard<std::mutex> g(local_mutex_);
    ++seg->local_counts[index];
}

void Pool::release_local(MappedSegment* seg, uint32_t index, uint64_t generation) noexcept {
    std::lock_guard<std::mutex> g(local_mutex_);
    uint32_t& local = seg->local_counts[index];
    if (local == 0 || --local > 0) return;
    seg->local_sealed[index].store(0, std::memory_order_relaxed);
    if (detached_.load(std::memory_order_relaxed)) return;  // detach already cleared our bits
    const uint32_t slot = slot_;
    const uint32_t t = bw::tag_of(generation);
    auto next = update_word(seg->words[index], [&](uint64_t w) { return bw::remove_holder(w, t, slot); });
    if (next && bw::is_free(*next)) seg->meta->header->hint.store(index, std::memory_order_relaxed);
}

bool Pool::sealed(const MappedSegment* seg, uint32_t index) const {
    return seg->local_sealed[index].load(std::memory_order_acquire) != 0;
}

void Pool::seal(MappedSegment* seg, uint32_t index) { seg->local_sealed[index].store(1, std::memory_order_release); }

Pool::Reach Pool::reach_slow(const BlockRef& ref, std::string* why) noexcept {
    try {
        SegmentMeta* m = meta(ref.segment);
        return m && ref.index < m->block_count ? Reach::Reachable : Reach::Corrupt;
    } catch (const CorruptSegment&) {
        return Reach::Corrupt;
    } catch (const std::exception& e) {
        if (why) {
            try {
                *why = e.what();
            } catch (...) {
            }
        }
        return Reach::Unreachable;
    } catch (...) {
        return Reach::Unreachable;
    }
}

SegmentMeta* Pool::meta_of(const BlockRef& ref) noexcept {
    try {
        SegmentMeta* m = meta(ref.segment);
        return m && ref.index < m->block_count ? m : nullptr;
    } catch (...) {
        return nullptr;
    }
}

bool Pool::add_ring_ref(const BlockRef& ref) noexcept {
    SegmentMeta* m = meta_of(ref);
    if (!m) return false;
    const uint32_t t = bw::tag_of(ref.generation);
    auto next = update_word(m->words[ref.index], [&](uint64_t w) { return bw::add_ring_ref(w, t); });
    if (!next) return false;
    if (m->gens[ref.index].load(std::memory_order_acquire) != ref.generation) {  // not that allocation
        update_word(m->words[ref.index], [&](uint64_t w) { return bw::remove_ring_ref(w, t); });
        return false;
    }
    return true;
}

bool Pool::remove_ring_ref(const BlockRef& ref) noexcept {
    SegmentMeta* m = meta_of(ref);
    if (!m) return false;
    const uint32_t t = bw::tag_of(ref.generation);
    auto next = update_word(m->words[ref.index], [&](uint64_t w) { return bw::remove_ring_ref(w, t); });
    if (next && bw::is_free(*next)) m->header->hint.store(ref.index, std::memory_order_relaxed);
    return true;
}

}  // namespace horus

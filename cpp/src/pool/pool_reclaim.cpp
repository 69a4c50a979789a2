// pool_reclaim.cpp — the pool as a reclamation participant (session/participant.hpp):
// clearing dead processes' holder bits, reconciling ring counts, and fork().
#include "horus/base/error.hpp"
#include "horus/pool/pool.hpp"
#include "pool_internal.hpp"

namespace horus {
namespace bw = block_word;
using namespace pool_internal;

void Pool::prepare() {
    // Outside every lock: map the meta part of every segment (a few KiB each), so the
    // critical section below maps at most what was created in between.
    if (!control_) return;
    for (uint32_t s = 0, n = segment_count(control_); s < n; ++s) {
        try {
            meta(s);
        } catch (const ShmError&) {
            // Corrupt or unreachable: clear_dead() reports it.
        }
    }
}

bool Pool::clear_dead(std::span<const ProcessRef> dead) noexcept {
    if (!control_) return false;
    uint64_t mask = 0;
    for (const ProcessRef& d : dead) {
        if (d.slot >= bw::kMaxHolders) continue;
        mask |= bw::holder_bit(d.slot);
        if (d.slot == slot_ && !detached_.load()) detached_.store(true);  // we are leaving
    }
    if (mask == 0) return true;
    bool complete = true;
    for (uint32_t s = 0, n = segment_count(control_); s < n; ++s) {
        SegmentMeta* m = nullptr;
        try {
            m = meta(s);
        } catch (const CorruptSegment&) {
            continue;  // never trusted: nothing in it is reclaimed
        } catch (...) {
            // A corrupt segment is never trusted; one we cannot map now (EMFILE, ENOMEM)
            // keeps the dead slots for the next reclamation.
            const layout::SegmentEntry& e = control_->segments[s];
            if (e.state.load(std::memory_order_acquire) == layout::kSegmentReady) complete = false;
            continue;
        }
        if (!m) continue;
        for (uint32_t i = 0; i < m->block_count; ++i) {
            auto next = update_word(m->words[i], [mask](uint64_t w) { return bw::remove_dead_holders(w, mask); });
            if (next && bw::is_free(*next)) m->header->hint.store(i, std::memory_order_relaxed);
        }
    }
    return complete;
}

std::size_t Pool::reconcile(const ReferenceCensus& census) noexcept {
    if (!control_) return 0;
    std::size_t fixed = 0;
    for (uint32_t s = 0, n = segment_count(control_); s < n; ++s) {
        SegmentMeta* m = nullptr;
        try {
            m = meta(s);
        } catch (...) {
            continue;  // a corrupt segment is never trusted, nor repaired
        }
        if (!m) continue;
        for (uint32_t i = 0; i < m->block_count; ++i) {
            const auto it = census.counts.find(census_key(s, i));
            const uint64_t gen = m->gens[i].load(std::memory_order_acquire);
            auto next = update_word(m->words[i], [&](uint64_t w) -> std::optional<uint64_t> {
                if (bw::is_free(w)) return std::nullopt;  // never resurrect a freed block
                uint32_t want = 0;
                if (it != census.counts.end() && it->second.first == gen && bw::tag_of(gen) == bw::tag(w))
                    want = static_cast<uint32_t>(std::min<uint64_t>(it->second.second, bw::kRingMax));
                if (bw::ring_count(w) == want) return std::nullopt;
                if (bw::holders(w) == 0 && want == 0) return bw::make(bw::tag(w) + 1, 0, 0);
                return bw::make(bw::tag(w), bw::holders(w), want);
            });
            if (!next) continue;
            ++fixed;
            if (bw::is_free(*next)) m->header->hint.store(i, std::memory_order_relaxed);
        }
    }
    return fixed;
}

std::size_t Pool::reclaim_dead_processes() { return session_.reclaim(); }

// ---- fork -----------------------------------------------------------------------------
// Before the fork the child's slot already holds every block we hold (its bit is set
// here, while our own bit keeps the block alive), so the parent can free and reuse at
// full speed: nothing the child inherited is freed under it. Both sides seal what they
// held: parent and child share those payloads now, so neither may write them.

void Pool::prepare_fork(uint32_t child_slot) noexcept {
    map_mutex_.lock();
    local_mutex_.lock();
    if (!control_) return;
    const uint32_t limit = mapped_limit_.load(std::memory_order_acquire);
    for (uint32_t s = 0; s < limit; ++s) {
        MappedSegment* seg = mapped_[s].load(std::memory_order_acquire);
        if (!seg) continue;
        for (uint32_t i = 0; i < seg->block_count; ++i) {
            if (seg->local_counts[i] == 0) continue;
            seg->local_sealed[i].store(1, std::memory_order_relaxed);
            if (child_slot >= bw::kMaxHolders || detached_.load()) continue;
            update_word(seg->words[i], [child_slot](uint64_t w) {
                return bw::is_free(w) ? std::nullopt : std::optional<uint64_t>(w | bw::holder_bit(child_slot));
            });
        }
    }
}

void Pool::after_fork_parent() noexcept {
    local_mutex_.unlock();
    map_mutex_.unlock();
}

void Pool::after_fork_child() noexcept {
    local_mutex_.unlock();
    map_mutex_.unlock();
    slot_ = session_.slot();
    detached_.store(!session_.attached());
}

}  // namespace horus

// block_word.hpp — the 64-bit state word of one pool block, and its transitions.
//
// Every block of every pool segment has one std::atomic<uint64_t> word in
// shared memory. All ownership changes are single compare-and-swap operations
// on it, so a process killed at any instant leaves every word consistent:
//
//   bits  0..39  holder mask: bit p set <=> process slot p holds >= 1 reference
//   bits 40..51  ring count: references held by topic ring slots (not by a process)
//   bits 52..63  tag: the low 12 bits of the block's generation
//
// A block is free when mask == 0 and ring count == 0. Allocation is a CAS from
// a free word to (same tag, one holder bit). The release that clears the last
// holder bumps the tag in the same CAS. Crash recovery clears a dead slot's bit
// in every word (same release rule).
//
// Generations. The tag alone wraps after 4096 frees, and with early release a
// block is recycled every few messages, so the tag cannot tell a stale reference
// from a live one. Each block therefore also has a 64-bit generation word next to
// it (SegmentHeader::gens_offset). Its writer is the allocator, after its
// allocation CAS and while it is the only holder: gen = next_generation(old, tag),
// the smallest value above the old one whose low 12 bits are the tag (release).
// An acquirer of BlockRef r first CASes "add holder if the tag matches and the
// block is not free", and only then compares the 64-bit word with r.generation
// (acquire); on a mismatch it drops the bit again and the reference is stale.
// Holding a bit keeps the block from being freed, so the comparison is stable.
// While an allocator is between its CAS and its store, the word still shows the
// previous allocation, whose low bits differ from the tag, so no reference matches.
//
// Within one process, many handles to one block share the one bit; the count of
// those handles lives in process-local memory (see pool.hpp).
#pragma once

#include <cstdint>
#include <optional>

namespace horus::block_word {

inline constexpr int kMaxHolders = 40;  // process slots per namespace
inline constexpr uint64_t kMaskBits = (uint64_t{1} << kMaxHolders) - 1;
inline constexpr int kRingShift = 40;
inline constexpr uint64_t kRingMax = 0xFFF;
inline constexpr uint64_t kRingBits = kRingMax << kRingShift;
inline constexpr int kTagShift = 52;
inline constexpr uint64_t kTagMax = 0xFFF;
inline constexpr uint64_t kInUseBits = kMaskBits | kRingBits;

constexpr uint64_t holders(uint64_t w) { return w & kMaskBits; }
constexpr uint32_t ring_count(uint64_t w) { return static_cast<uint32_t>((w >> kRingShift) & kRingMax); }
constexpr uint32_t tag(uint64_t w) { return static_cast<uint32_t>(w >> kTagShift); }
constexpr uint32_t tag_of(uint64_t generation) { return static_cast<uint32_t>(generation & kTagMax); }
constexpr bool is_free(uint64_t w) { return (w & kInUseBits) == 0; }
constexpr uint64_t holder_bit(uint32_t slot) { return uint64_t{1} << slot; }
constexpr uint64_t make(uint32_t t, uint64_t mask, uint32_t ring) {
    return (uint64_t{t & kTagMax} << kTagShift) | (uint64_t{ring & kRingMax} << kRingShift) | (mask & kMaskBits);
}

/// The generation of a new allocation whose word has tag `t`, after one with `old`.
constexpr uint64_t next_generation(uint64_t old, uint32_t t) {
    const uint64_t step = (uint64_t{t} - old) & kTagMax;
    return old + (step == 0 ? kTagMax + 1 : step);
}

/// Allocation: a free word becomes held by `slot`. nullopt if not free.
constexpr std::optional<uint64_t> allocate(uint64_t w, uint32_t slot) {
    if (!is_free(w)) return std::nullopt;
    return make(tag(w), holder_bit(slot), 0);
}

/// Acquire for `slot`: only a live block with the expected tag. Idempotent if the
/// bit is already set. (The caller then checks the 64-bit generation.)
constexpr std::optional<uint64_t> add_holder(uint64_t w, uint32_t t, uint32_t slot) {
    if (is_free(w) || tag(w) != (t & kTagMax)) return std::nullopt;
    return w | holder_bit(slot);
}

/// Release by `slot`: clears its bit if the tag matches and the bit is set;
/// frees (tag + 1) when nothing holds the block any more. nullopt = no-op.
constexpr std::optional<uint64_t> remove_holder(uint64_t w, uint32_t t, uint32_t slot) {
    if (tag(w) != (t & kTagMax) || !(w & holder_bit(slot))) return std::nullopt;
    const uint64_t mask = holders(w) & ~holder_bit(slot);
    const uint32_t ring = ring_count(w);
    if (mask == 0 && ring == 0) return make(tag(w) + 1, 0, 0);
    return make(tag(w), mask, ring);
}

/// Crash recovery: clears every bit of `dead_mask`, whatever the tag.
constexpr std::optional<uint64_t> remove_dead_holders(uint64_t w, uint64_t dead_mask) {
    if (!(w & dead_mask & kMaskBits)) return std::nullopt;
    const uint64_t mask = holders(w) & ~dead_mask;
    const uint32_t ring = ring_count(w);
    if (mask == 0 && ring == 0) return make(tag(w) + 1, 0, 0);
    return make(tag(w), mask, ring);
}

/// A topic ring slot takes a reference: live block of that tag, count below max.
constexpr std::optional<uint64_t> add_ring_ref(uint64_t w, uint32_t t) {
    if (is_free(w) || tag(w) != (t & kTagMax) || ring_count(w) == kRingMax) return std::nullopt;
    return make(tag(w), holders(w), ring_count(w) + 1);
}

/// A topic ring slot drops its reference (frees the block if it was the last).
constexpr std::optional<uint64_t> remove_ring_ref(uint64_t w, uint32_t t) {
    if (tag(w) != (t & kTagMax) || ring_count(w) == 0) return std::nullopt;
    const uint32_t ring = ring_count(w) - 1;
    if (holders(w) == 0 && ring == 0) return make(tag(w) + 1, 0, 0);
    return make(tag(w), holders(w), ring);
}

}  // namespace horus::block_word

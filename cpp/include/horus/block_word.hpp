// block_word.hpp — the 64-bit state word of one pool block, and its transitions.
//
// Every block of every pool segment has one std::atomic<uint64_t> word in
// shared memory. All ownership changes are single compare-and-swap operations
// on it, so a process killed at any instant leaves every word consistent:
//
//   bits  0..39  holder mask: bit p set <=> process slot p holds >= 1 reference
//   bits 40..51  ring count: references held by topic ring slots (not by a process)
//   bits 52..63  generation: bumped every time the block is freed
//
// A block is free when mask == 0 and ring count == 0. Allocation is a CAS from
// a free word to (same generation, one holder bit). Acquiring a reference that
// came from elsewhere (a topic slot) is "add if generation matches and the block
// is not free", so a stale reference can never resurrect a freed block. The
// release that clears the last holder bumps the generation in the same CAS.
// Crash recovery clears a dead slot's bit in every word (same release rule).
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
inline constexpr int kGenShift = 52;
inline constexpr uint64_t kGenMax = 0xFFF;
inline constexpr uint64_t kInUseBits = kMaskBits | kRingBits;

constexpr uint64_t holders(uint64_t w) { return w & kMaskBits; }
constexpr uint32_t ring_count(uint64_t w) { return static_cast<uint32_t>((w >> kRingShift) & kRingMax); }
constexpr uint32_t generation(uint64_t w) { return static_cast<uint32_t>(w >> kGenShift); }
constexpr bool is_free(uint64_t w) { return (w & kInUseBits) == 0; }
constexpr uint64_t holder_bit(uint32_t slot) { return uint64_t{1} << slot; }
constexpr uint64_t make(uint32_t gen, uint64_t mask, uint32_t ring) {
    return (uint64_t{gen & kGenMax} << kGenShift) | (uint64_t{ring & kRingMax} << kRingShift) |
           (mask & kMaskBits);
}

/// Allocation: a free word becomes held by `slot`. nullopt if not free.
constexpr std::optional<uint64_t> allocate(uint64_t w, uint32_t slot) {
    if (!is_free(w)) return std::nullopt;
    return make(generation(w), holder_bit(slot), 0);
}

/// Acquire for `slot`: only a live block of the expected generation. Idempotent
/// if the bit is already set.
constexpr std::optional<uint64_t> add_holder(uint64_t w, uint32_t gen, uint32_t slot) {
    if (is_free(w) || generation(w) != (gen & kGenMax)) return std::nullopt;
    return w | holder_bit(slot);
}

/// Release by `slot`: clears its bit if the generation matches and the bit is set;
/// frees (generation + 1) when nothing holds the block any more. nullopt = no-op.
constexpr std::optional<uint64_t> remove_holder(uint64_t w, uint32_t gen, uint32_t slot) {
    if (generation(w) != (gen & kGenMax) || !(w & holder_bit(slot))) return std::nullopt;
    uint64_t mask = holders(w) & ~holder_bit(slot);
    uint32_t ring = ring_count(w);
    if (mask == 0 && ring == 0) return make(generation(w) + 1, 0, 0);
    return make(generation(w), mask, ring);
}

/// Crash recovery: clears `slot`'s bit whatever the generation.
constexpr std::optional<uint64_t> remove_dead_holder(uint64_t w, uint32_t slot) {
    if (!(w & holder_bit(slot))) return std::nullopt;
    return remove_holder(w, generation(w), slot);
}

/// A topic ring slot takes a reference: live block of that generation, count below max.
constexpr std::optional<uint64_t> add_ring_ref(uint64_t w, uint32_t gen) {
    if (is_free(w) || generation(w) != (gen & kGenMax) || ring_count(w) == kRingMax)
        return std::nullopt;
    return make(generation(w), holders(w), ring_count(w) + 1);
}

/// A topic ring slot drops its reference (frees the block if it was the last).
constexpr std::optional<uint64_t> remove_ring_ref(uint64_t w, uint32_t gen) {
    if (generation(w) != (gen & kGenMax) || ring_count(w) == 0) return std::nullopt;
    uint32_t ring = ring_count(w) - 1;
    if (holders(w) == 0 && ring == 0) return make(generation(w) + 1, 0, 0);
    return make(generation(w), holders(w), ring);
}

}  // namespace horus::block_word

// pool_internal.hpp — constants and helpers shared by the pool's source files only.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "horus/base/error.hpp"
#include "horus/pool/pool_layout.hpp"

namespace horus::pool_internal {

/// A segment or segment table entry that does not match what it claims to be: never
/// trusted, never repaired (reclamation skips it instead of keeping dead slots for it).
class CorruptSegment : public ShmError {
  public:
    using ShmError::ShmError;
};


inline constexpr uint64_t kMinBlock = 256;
inline constexpr uint32_t kMaxClass = (40 - 8) * 4;      // blocks up to 1 TiB
inline constexpr uint64_t kSegmentTarget = 16ull << 20;  // aim for ~16 MiB segments (pages reserved up front)
inline constexpr uint32_t kMaxBlocksPerSegment = 1024;
inline constexpr uint32_t kNoSegment = UINT32_MAX;

inline uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

struct SegmentGeometry {
    uint64_t words_offset, gens_offset, payload_offset, total;
};

inline SegmentGeometry geometry(uint64_t block_size, uint32_t count) {
    SegmentGeometry g{};
    g.words_offset = align_up(sizeof(layout::SegmentHeader), layout::kBlockAlign);
    g.gens_offset = g.words_offset + uint64_t{count} * 8;
    g.payload_offset = align_up(g.gens_offset + uint64_t{count} * 8, layout::kPayloadAlign);
    g.total = g.payload_offset + uint64_t{count} * block_size;
    return g;
}

/// PoolControl::segment_count as a loop bound: another process can write any value
/// there, and segments[] has kMaxSegments entries (found by fuzz_pool).
inline uint32_t segment_count(const layout::PoolControl* ctl) {
    const uint32_t n = ctl->segment_count.load(std::memory_order_acquire);
    return n < layout::kMaxSegments ? n : layout::kMaxSegments;
}

/// Applies `transition` to `word` by CAS until it succeeds or declines (nullopt).
template <typename F>
std::optional<uint64_t> update_word(std::atomic<uint64_t>& word, F transition) {
    uint64_t w = word.load(std::memory_order_acquire);
    for (;;) {
        std::optional<uint64_t> next = transition(w);
        if (!next) return std::nullopt;
        if (word.compare_exchange_weak(w, *next, std::memory_order_acq_rel, std::memory_order_acquire)) return next;
    }
}

inline std::string bytes_str(uint64_t b) { return std::to_string(b) + " B"; }

}  // namespace horus::pool_internal

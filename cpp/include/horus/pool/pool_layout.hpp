// pool_layout.hpp — the bytes of the pool as they lie in shared memory.
//
// Two kinds of object per namespace:
//
//  "/horus.<ns>.pool"    one PoolControl: the segment table.
//  "/horus.<ns>.seg<i>"  segment i: a SegmentHeader, block_count state words
//                        (block_word.hpp), block_count 64-bit generations, then
//                        block_count payload blocks of block_size bytes each
//                        (payload 4096-aligned, so it can be mapped on its own).
//
// Who writes what:
//  * PoolControl::mutex (robust, process-shared) serialises segment creation. It is
//    never held while the namespace lock is taken (see session/reclamation.cpp).
//  * segments[] entries are append-only: filled under the mutex, then `state`
//    is stored with release order; readers load it with acquire order and then
//    may open the segment. Entries never change once ready.
//  * Block state words are changed only by CAS (lock-free, any process).
//  * A block's generation is written only by the process whose allocation CAS
//    won, before it hands the block out (block_word.hpp).
//  * SegmentHeader::hint is a relaxed allocation hint; any value is safe.
// Readers of another process's data never trust it: magic, version, sizes and
// indices are checked against the mapping before use (see pool_segments.cpp).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <pthread.h>

#include "horus/pool/block_word.hpp"

namespace horus::layout {

inline constexpr uint64_t kControlMagic = 0x4c4f4f5053524f48ull;  // "HORSPOOL"
inline constexpr uint64_t kSegmentMagic = 0x474553535553524full;  // "ORUSSEG" + 'G'
inline constexpr uint32_t kLayoutVersion = 2;
inline constexpr uint32_t kMaxSegments = 1024;
inline constexpr uint64_t kPayloadAlign = 4096;
inline constexpr uint64_t kBlockAlign = 64;

enum SegmentState : uint32_t { kSegmentEmpty = 0, kSegmentReady = 1 };

/// One segment. Written once under the mutex, then read-only.
struct SegmentEntry {
    std::atomic<uint32_t> state;
    uint32_t size_class;
    uint32_t block_count;
    uint32_t reserved;
    uint64_t block_size;
    uint64_t total_bytes;  // size of the shared-memory object
};

struct PoolControl {
    uint64_t magic;
    uint32_t version;
    uint32_t control_size;           // sizeof(PoolControl), checked on open
    std::atomic<uint32_t> ready;     // 1 once the creator initialised everything below
    uint32_t reserved0;
    pthread_mutex_t mutex;
    std::atomic<uint32_t> segment_count;   // entries [0, count) may be ready
    std::atomic<uint64_t> reserved_bytes;  // sum of total_bytes of all segments
    SegmentEntry segments[kMaxSegments];
};

struct SegmentHeader {
    uint64_t magic;
    uint32_t version;
    uint32_t index;
    uint64_t block_size;
    uint32_t block_count;
    std::atomic<uint32_t> hint;  // index to try first when allocating
    uint64_t words_offset;
    uint64_t gens_offset;
    uint64_t payload_offset;
    uint64_t total_bytes;
};

static_assert(std::atomic<uint64_t>::is_always_lock_free);
// Begins like base/control_object.hpp's ControlPrefix (magic, version, control_size, ready).
static_assert(offsetof(PoolControl, ready) == 16 && offsetof(PoolControl, control_size) == 12);
static_assert(std::atomic<uint32_t>::is_always_lock_free);

}  // namespace horus::layout

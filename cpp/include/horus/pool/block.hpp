// block.hpp — Block: a counted handle to one pool block, valid in this process.
//
// Copying a Block adds a process-local reference; destroying the last handle of
// a block in this process clears this process's bit in the block's shared state
// word (block_word.hpp), which frees the block when no process and no topic
// slot holds it any more. Handles are cheap (three words) and thread-safe to
// copy and destroy concurrently.
//
// Sealing: a block that was sent, received, or held across fork() is sealed in
// this process until this process drops its last handle: every message over it
// is then read-only, whichever handle it was made from (message.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "horus/pool/block_ref.hpp"

namespace horus {

class Pool;
struct MappedSegment;

class Block {
  public:
    Block() = default;
    ~Block() { reset(); }
    Block(const Block& other);
    Block& operator=(const Block& other);
    Block(Block&& other) noexcept
        : segment_(other.segment_), index_(other.index_), generation_(other.generation_) {
        other.segment_ = nullptr;
    }
    Block& operator=(Block&& other) noexcept;

    bool valid() const { return segment_ != nullptr; }
    explicit operator bool() const { return valid(); }

    /// Start of the block's payload (64-byte aligned).
    std::byte* data() const;
    /// Usable bytes of the block (>= the size asked for).
    std::size_t capacity() const;
    /// Position-independent name of this block, for descriptors.
    BlockRef ref() const;

    /// True once the block was sent, received or held across fork() (see above).
    bool sealed() const;
    void seal() const;

    /// Drops this handle's reference.
    void reset() noexcept;

  private:
    friend class Pool;
    Block(MappedSegment* segment, uint32_t index, uint64_t generation)
        : segment_(segment), index_(index), generation_(generation) {}

    MappedSegment* segment_ = nullptr;
    uint32_t index_ = 0;
    uint64_t generation_ = 0;
};

}  // namespace horus

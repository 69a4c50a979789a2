// block_ref.hpp — BlockRef: the position-independent name of one pool block.
//
// (segment, index) say where the block is; `generation` says which allocation of
// it is meant. The generation is 64 bits and never repeats for a block (it grows
// by one per allocation), so a reference can never name a later allocation: see
// block_word.hpp for how it is checked.
#pragma once

#include <cstdint>

namespace horus {

struct BlockRef {
    uint32_t segment = 0;
    uint32_t index = 0;
    uint64_t generation = 0;
    bool operator==(const BlockRef&) const = default;
};

static_assert(sizeof(BlockRef) == 16);

}  // namespace horus

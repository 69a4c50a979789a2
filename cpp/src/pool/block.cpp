// block.cpp — Block handle operations; the counting lives in Pool (pool_allocation.cpp).
#include "horus/pool/block.hpp"

#include "horus/pool/pool.hpp"

namespace horus {

Block::Block(const Block& other)
    : segment_(other.segment_), index_(other.index_), generation_(other.generation_) {
    if (segment_) segment_->pool->retain_local(segment_, index_);
}

Block& Block::operator=(const Block& other) {
    if (this != &other) {
        if (other.segment_) other.segment_->pool->retain_local(other.segment_, other.index_);
        reset();
        segment_ = other.segment_;
        index_ = other.index_;
        generation_ = other.generation_;
    }
    return *this;
}

Block& Block::operator=(Block&& other) noexcept {
    if (this != &other) {
        reset();
        segment_ = other.segment_;
        index_ = other.index_;
        generation_ = other.generation_;
        other.segment_ = nullptr;
    }
    return *this;
}

void Block::reset() noexcept {
    if (segment_) {
        MappedSegment* seg = segment_;
        segment_ = nullptr;
        seg->pool->release_local(seg, index_, generation_);
    }
}

std::byte* Block::data() const {
    return segment_ ? segment_->payload + static_cast<std::size_t>(index_) * segment_->block_size : nullptr;
}

std::size_t Block::capacity() const { return segment_ ? segment_->block_size : 0; }

BlockRef Block::ref() const {
    BlockRef r;
    if (segment_) {
        r.segment = segment_->index;
        r.index = index_;
        r.generation = generation_;
    }
    return r;
}

bool Block::sealed() const { return segment_ && segment_->pool->sealed(segment_, index_); }

void Block::seal() const {
    if (segment_) segment_->pool->seal(segment_, index_);
}

}  // namespace horus

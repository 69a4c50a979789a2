// bytes_message.hpp — BytesMessage: a typed message or schemaless data ready to send,
// or just received: its descriptor (bytes_descriptor.hpp) and, when the payload does
// not travel inline, the pool block holding it.
//
// allocate() picks the storage: payloads of up to kInlinePayloadBytes go inline in the
// descriptor (no pool block, nothing to reclaim), bigger ones get a block of their own.
// received() checks a descriptor from a ring before anyone reads through it.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "horus/msg/bytes_descriptor.hpp"
#include "horus/msg/record_layout.hpp"
#include "horus/pool/block.hpp"

namespace horus {

struct BytesMessage {
    BytesDescriptor desc;
    Block block;  // the payload's block (Pooled only)

    /// A message of `size` payload bytes (contents zero). Inline when `size` fits and
    /// `allow_inline`; else a new pool block (PoolExhausted when the pool is full).
    /// InvalidArgument beyond 4 GiB - 1.
    static BytesMessage allocate(MessageKind kind, uint64_t type_hash, uint64_t size, bool allow_inline = true);

    /// A descriptor read from a ring, with the block it names (empty for inline). Throws
    /// ShmError if it is corrupt: not a bytes kind, an unknown storage, an inline size
    /// beyond kInlinePayloadBytes, a payload outside its block.
    static BytesMessage received(const TensorDescriptor& wire, Block block);

    std::byte* data() {
        return desc.storage == PayloadStorage::Inline ? desc.inline_payload : block.data() + desc.pooled.offset;
    }
    const std::byte* data() const {
        return desc.storage == PayloadStorage::Inline ? desc.inline_payload : block.data() + desc.pooled.offset;
    }
    std::span<const std::byte> payload() const { return {data(), desc.size}; }
    /// True when this is a typed message of `layout` that a reader may use: kind Record,
    /// the layout's hash and size, and valid values (RecordLayout::valid).
    bool holds_record_of(const RecordLayout& layout) const {
        return desc.kind == MessageKind::Record && desc.type_hash == layout.hash() && desc.size == layout.size() &&
               layout.valid(data());
    }
    bool is_inline() const { return desc.storage == PayloadStorage::Inline; }
};

}  // namespace horus

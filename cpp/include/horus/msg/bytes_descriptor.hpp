// bytes_descriptor.hpp — the descriptor of a message whose payload is a run of bytes:
// a typed message (MessageKind::Record: the bytes of one record) or schemaless data
// (MessageKind::Data: MessagePack, followed by the arrays it refers to).
//
// Same size as TensorDescriptor and the same first byte (kind), so both travel in the
// same ring slots. Payloads of up to kInlinePayloadBytes travel inside the descriptor
// (no pool block: the ring slot is the message); larger ones live in a pool block like
// a tensor's. Only a Pooled payload names a block; descriptor_block() is what the ring
// asks.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>

#include "horus/msg/descriptor.hpp"
#include "horus/pool/block_ref.hpp"

namespace horus {

inline constexpr std::size_t kInlinePayloadBytes = 88;

enum class PayloadStorage : uint8_t { Inline = 1, Pooled = 2 };

struct BytesDescriptor {
    MessageKind kind = MessageKind::Record;
    PayloadStorage storage = PayloadStorage::Inline;
    uint16_t reserved = 0;
    uint32_t size = 0;        // payload bytes
    uint64_t type_hash = 0;   // Record: the layout hash (record_layout.hpp); Data: 0
    uint64_t timestamp_ns = 0;
    char frame_id[kFrameIdCapacity] = {};
    struct PooledPayload {
        BlockRef block;
        uint64_t offset;  // payload start within the block
    };
    union {
        std::byte inline_payload[kInlinePayloadBytes];
        PooledPayload pooled;
    };
    BytesDescriptor() : inline_payload{} {}
};

static_assert(std::is_trivially_copyable_v<BytesDescriptor>);
static_assert(sizeof(BytesDescriptor) == sizeof(TensorDescriptor));
static_assert(offsetof(BytesDescriptor, kind) == offsetof(TensorDescriptor, kind));

inline bool is_bytes_kind(MessageKind k) { return k == MessageKind::Record || k == MessageKind::Data; }

inline TensorDescriptor to_wire(const BytesDescriptor& d) { return std::bit_cast<TensorDescriptor>(d); }
inline BytesDescriptor bytes_descriptor_of(const TensorDescriptor& d) { return std::bit_cast<BytesDescriptor>(d); }

/// The pool block a descriptor's payload lives in; nullopt for an inline payload (and
/// for a bytes descriptor whose storage byte is neither value: corrupt, it names nothing).
inline std::optional<BlockRef> descriptor_block(const TensorDescriptor& d) {
    if (!is_bytes_kind(d.kind)) return d.block;
    const BytesDescriptor b = bytes_descriptor_of(d);
    if (b.storage == PayloadStorage::Pooled) return b.pooled.block;
    return std::nullopt;
}

}  // namespace horus

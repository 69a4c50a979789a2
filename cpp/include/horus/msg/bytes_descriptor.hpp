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
#include <cstring>
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
    uint8_t frame_len = 0;    // bytes of frame_id before its NUL padding (0..63)
    uint8_t reserved = 0;
    uint32_t size = 0;        // payload bytes
    uint64_t type_hash = 0;   // Record: the layout hash (record_layout.hpp); Data: 0
    uint64_t timestamp_ns = 0;
    struct PooledPayload {
        BlockRef block;
        uint64_t offset;  // payload start within the block
    };
    union {
        std::byte inline_payload[kInlinePayloadBytes];
        PooledPayload pooled;
    };
    char frame_id[kFrameIdCapacity] = {};  // NUL-padded (bytes past frame_len are 0)
    BytesDescriptor() : inline_payload{} {}
};

static_assert(std::is_trivially_copyable_v<BytesDescriptor>);
static_assert(sizeof(BytesDescriptor) == sizeof(TensorDescriptor));
static_assert(offsetof(BytesDescriptor, kind) == offsetof(TensorDescriptor, kind));
static_assert(offsetof(BytesDescriptor, size) == 4 && offsetof(BytesDescriptor, frame_len) == 2 &&
              offsetof(BytesDescriptor, frame_id) % 8 == 0 && offsetof(BytesDescriptor, inline_payload) == 24,
              "wire_extent() reads kind, storage, frame_len and size from word 0");

inline bool is_bytes_kind(MessageKind k) { return k == MessageKind::Record || k == MessageKind::Data; }

inline TensorDescriptor to_wire(const BytesDescriptor& d) { return std::bit_cast<TensorDescriptor>(d); }
inline BytesDescriptor bytes_descriptor_of(const TensorDescriptor& d) { return std::bit_cast<BytesDescriptor>(d); }

/// The words of a descriptor (8-byte units) that carry its content: [0, head) and
/// [frame_begin, frame_begin + frame). A ring copies only these (a small inline message
/// then touches one cache line instead of three); the rest of the slot keeps stale
/// bytes, which a reader zeroes in its copy. A TensorDescriptor, or a bytes descriptor
/// whose word 0 is implausible (corrupt), uses every word.
struct WireExtent {
    uint32_t head;
    uint32_t frame_begin;
    uint32_t frame;
};

inline constexpr uint32_t kDescriptorWordCount = sizeof(TensorDescriptor) / 8;

inline WireExtent wire_extent(uint64_t word0) {
    constexpr WireExtent all{kDescriptorWordCount, kDescriptorWordCount, 0};
    const auto kind = static_cast<MessageKind>(word0 & 0xFF);
    if (!is_bytes_kind(kind)) return all;
    const auto storage = static_cast<PayloadStorage>((word0 >> 8) & 0xFF);
    const uint64_t frame_len = (word0 >> 16) & 0xFF;
    const uint64_t size = word0 >> 32;
    constexpr uint64_t payload_at = offsetof(BytesDescriptor, inline_payload);
    uint64_t payload_bytes = 0;
    if (storage == PayloadStorage::Inline && size <= kInlinePayloadBytes) payload_bytes = size;
    else if (storage == PayloadStorage::Pooled) payload_bytes = sizeof(BytesDescriptor::PooledPayload);
    else return all;
    if (frame_len >= kFrameIdCapacity) return all;
    constexpr uint32_t frame_at = offsetof(BytesDescriptor, frame_id) / 8;
    return {static_cast<uint32_t>((payload_at + payload_bytes + 7) / 8), frame_at,
            static_cast<uint32_t>((frame_len + 7) / 8)};
}

/// The pool block a descriptor's payload lives in; nullopt for an inline payload (and
/// for a bytes descriptor whose storage byte is neither value: corrupt, it names nothing).
inline std::optional<BlockRef> descriptor_block(const TensorDescriptor& d) {
    if (!is_bytes_kind(d.kind)) return d.block;
    const BytesDescriptor b = bytes_descriptor_of(d);
    if (b.storage == PayloadStorage::Pooled) return b.pooled.block;
    return std::nullopt;
}

}  // namespace horus

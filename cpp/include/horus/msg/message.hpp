// message.hpp — Message: what Tensor, Image, DepthImage and PointCloud share.
//
// A message is a TensorDescriptor (shape, dtype, metadata, block reference) plus
// a Block handle that keeps its payload alive. Copying a Message copies the
// descriptor and adds a reference; the payload is never copied (use copy()).
//
// Sharing rule: once a message has been sent, or when it was received, it is
// shared with other holders, and every mutating method throws ReadOnlyError.
// Read-only is a property of the block in this process (Block::sealed()): every
// message over a sent, received or fork-inherited block is shared, whichever
// handle or copy it was made from. copy() returns a private writable message in a
// new block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "horus/pool/block.hpp"
#include "horus/msg/descriptor.hpp"
#include "horus/msg/dtype.hpp"
#include "horus/msg/record_layout.hpp"

namespace horus {

class Message {
  public:
    const TensorDescriptor& descriptor() const { return desc_; }
    MessageKind kind() const { return desc_.kind; }
    DType dtype() const { return desc_.dtype; }
    std::size_t nbytes() const { return desc_.nbytes; }
    std::size_t ndim() const { return desc_.ndim; }
    std::span<const uint64_t> shape() const { return {desc_.shape, desc_.ndim}; }

    std::string_view frame_id() const { return {desc_.frame_id}; }
    uint64_t timestamp_ns() const { return desc_.timestamp_ns; }
    /// UTF-8 text of at most 63 bytes, no NUL characters (InvalidArgument otherwise).
    /// A received frame_id is not checked: it may hold any bytes but NUL.
    void set_frame_id(std::string_view id);
    void set_timestamp_ns(uint64_t t);

    /// Payload, C-contiguous, 64-byte aligned when it starts a block.
    const std::byte* data() const { return block_.data() + desc_.offset; }
    /// Payload for writing; throws ReadOnlyError when the message is shared.
    std::byte* mutable_data();
    std::span<const std::byte> bytes() const { return {data(), nbytes()}; }

    bool is_shared() const { return shared_ || block_.sealed(); }
    /// Marks the message and its block shared (done by Topic::send and on receive).
    void mark_shared() {
        shared_ = true;
        block_.seal();
    }
    bool is_cpu() const { return true; }
    const Block& block() const { return block_; }
    /// A Tensor of records: the record type (nullptr for every other message, and for a
    /// received Tensor of records whose type this process has not declared). Layouts are
    /// registered for the life of the process (record.hpp), so the pointer stays valid.
    const RecordLayout* record_layout() const { return record_; }
    /// ... and its layout hash (set on a received Tensor of records even when the layout
    /// is unknown here); 0 for every other message.
    uint64_t record_hash() const { return record_hash_; }
    /// For a Tensor of records whose layout is known: "" if every record is a valid value
    /// (RecordLayout::valid), else which one is not. "" for every other message.
    std::string first_invalid_record() const;

  protected:
    /// A new message of this shape in a fresh pool block (contents unspecified).
    Message(MessageKind kind, DType dtype, std::span<const uint64_t> shape);
    /// A message over an existing block (validated: bounds, sizes).
    Message(const TensorDescriptor& desc, Block block, bool shared);
    /// Checks a descriptor received from elsewhere (self-consistent, of `expected`
    /// kind); throws TypeMismatch/ShmError, else returns a sanitised copy.
    static TensorDescriptor validate(const TensorDescriptor& desc, MessageKind expected);
    void require_writable(const char* operation) const;
    /// A private copy of descriptor + payload in a new block.
    std::pair<TensorDescriptor, Block> copy_payload() const;

    TensorDescriptor desc_;
    Block block_;
    const RecordLayout* record_ = nullptr;  // a registered layout (never freed), or nullptr
    uint64_t record_hash_ = 0;
    bool shared_ = false;
};

/// Stores `id` into a descriptor's frame_id (NUL-padded). InvalidArgument unless it is
/// UTF-8 of at most 63 bytes without NUL characters.
void write_frame_id(char (&dst)[kFrameIdCapacity], std::string_view id);

/// Bytes needed for `shape` of `dtype`; throws InvalidArgument on overflow or
/// when any dimension exceeds `max_dim`.
uint64_t payload_bytes(std::span<const uint64_t> shape, DType dtype);

/// The descriptor of a C-contiguous payload of `shape` and `dtype` starting `offset`
/// bytes into its block (block reference and metadata left empty). Throws
/// InvalidArgument for more than kMaxDims dimensions or an overflowing size.
TensorDescriptor describe_payload(MessageKind kind, DType dtype, std::span<const uint64_t> shape,
                                  uint64_t offset);

/// Name of a message kind ("Image", ...).
std::string_view kind_name(MessageKind kind);

}  // namespace horus

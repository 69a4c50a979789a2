// message.cpp — shared parts of all message types (see message.hpp).
#include "horus/msg/message.hpp"

#include <cstring>

#include "horus/base/error.hpp"
#include "horus/msg/utf8.hpp"
#include "horus/pool/pool.hpp"

namespace horus {

std::string_view kind_name(MessageKind kind) {
    switch (kind) {
        case MessageKind::Tensor: return "Tensor";
        case MessageKind::Image: return "Image";
        case MessageKind::DepthImage: return "DepthImage";
        case MessageKind::PointCloud: return "PointCloud";
        case MessageKind::Record: return "typed message";
        case MessageKind::Data: return "schemaless data";
    }
    return "unknown";
}

uint64_t payload_bytes(std::span<const uint64_t> shape, DType dtype) {
    constexpr uint64_t kLimit = uint64_t{1} << 50;  // 1 PiB: far beyond any pool
    uint64_t n = dtype_size(dtype);
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] > kLimit || (shape[i] != 0 && n > kLimit / shape[i]))
            throw InvalidArgument("shape dimension " + std::to_string(i) + " = " +
                                  std::to_string(shape[i]) + " makes the payload larger than 2^50 bytes");
        n *= shape[i];
    }
    return n;
}

TensorDescriptor describe_payload(MessageKind kind, DType dtype, std::span<const uint64_t> shape,
                                  uint64_t offset) {
    if (shape.size() > kMaxDims)
        throw InvalidArgument(std::to_string(shape.size()) + " dimensions given; at most " +
                              std::to_string(kMaxDims) + " are supported");
    TensorDescriptor d;
    d.kind = kind;
    d.dtype = dtype;
    d.ndim = static_cast<uint8_t>(shape.size());
    std::copy(shape.begin(), shape.end(), d.shape);
    d.nbytes = payload_bytes(shape, dtype);
    d.offset = offset;
    return d;
}

Message::Message(MessageKind kind, DType dtype, std::span<const uint64_t> shape)
    : desc_(describe_payload(kind, dtype, shape, 0)) {
    block_ = Pool::instance().allocate(desc_.nbytes);
    desc_.block = block_.ref();
}

Message::Message(const TensorDescriptor& desc, Block block, bool shared)
    : desc_(desc), block_(std::move(block)), shared_(shared) {
    if (!block_.valid()) throw InvalidArgument("message needs a valid pool block");
    // Elements must be aligned: accessors load them as their type (a corrupt descriptor
    // with offset 130 for float32 made them load misaligned floats; found by fuzz_descriptor).
    if (static_cast<int>(desc_.dtype) < kDTypeCount && desc_.offset % dtype_size(desc_.dtype) != 0)
        throw ShmError("payload offset " + std::to_string(desc_.offset) + " is not a multiple of the " +
                       std::string(dtype_name(desc_.dtype)) + " item size " + std::to_string(dtype_size(desc_.dtype)));
    if (desc_.offset > block_.capacity() || desc_.nbytes > block_.capacity() - desc_.offset)
        throw ShmError("payload of " + std::to_string(desc_.nbytes) + " bytes at offset " +
                       std::to_string(desc_.offset) + " exceeds its block of " +
                       std::to_string(block_.capacity()) + " bytes");
    desc_.block = block_.ref();
    if (shared_) block_.seal();
}

TensorDescriptor Message::validate(const TensorDescriptor& in, MessageKind expected) {
    TensorDescriptor d = in;
    if (d.kind != expected)
        throw TypeMismatch("received a " + std::string(kind_name(d.kind)) + " where a " +
                           std::string(kind_name(expected)) + " was expected");
    if (static_cast<int>(d.dtype) >= kDTypeCount || d.ndim > kMaxDims)
        throw ShmError("corrupt descriptor: dtype code " + std::to_string(static_cast<int>(d.dtype)) +
                       ", ndim " + std::to_string(d.ndim));
    // An absurd shape (a dimension or product beyond 2^50 bytes) is corruption
    // too: ShmError, like every other check here, so receivers skip the message
    // (payload_bytes' InvalidArgument escaped Python's recv() as ValueError).
    uint64_t shape_bytes = 0;
    try {
        shape_bytes = payload_bytes({d.shape, d.ndim}, d.dtype);
    } catch (const InvalidArgument& e) {
        throw ShmError(std::string("corrupt descriptor: ") + e.what());
    }
    if (shape_bytes != d.nbytes)
        throw ShmError("corrupt descriptor: nbytes " + std::to_string(d.nbytes) +
                       " does not match its shape");
    if (d.record_size != 0 &&
        (d.kind != MessageKind::Tensor || d.dtype != DType::UInt8 || d.ndim == 0 || d.shape[d.ndim - 1] != d.record_size))
        throw ShmError("corrupt descriptor: record size " + std::to_string(d.record_size) +
                       " on a message that is not a uint8 Tensor whose last dimension is that size");
    d.frame_id[kFrameIdCapacity - 1] = '\0';
    return d;
}

std::string Message::first_invalid_record() const {
    if (!record_ || !record_->has_checks() || record_->size() == 0) return {};
    const uint64_t n = nbytes() / record_->size();
    for (uint64_t i = 0; i < n; ++i) {
        std::string bad = record_->first_invalid(data() + i * record_->size());
        if (!bad.empty()) return "record " + std::to_string(i) + ": " + bad;
    }
    return {};
}

void Message::require_writable(const char* operation) const {
    if (is_shared())
        throw ReadOnlyError(std::string(operation) + "() on a shared " +
                            std::string(kind_name(desc_.kind)) +
                            " (it was sent, received or held across fork(), so other holders see it); "
                            "call copy() for a private writable one");
}

std::byte* Message::mutable_data() {
    require_writable("mutable_data");
    return block_.data() + desc_.offset;
}


void write_frame_id(char (&dst)[kFrameIdCapacity], std::string_view id) {
    if (id.size() >= kFrameIdCapacity)
        throw InvalidArgument("frame_id of " + std::to_string(id.size()) +
                              " bytes is too long; at most " + std::to_string(kFrameIdCapacity - 1) +
                              " bytes are allowed");
    if (id.find('\0') != std::string_view::npos)
        throw InvalidArgument("frame_id must not contain NUL characters");
    require_utf8(id, "frame_id");
    std::memset(dst, 0, kFrameIdCapacity);
    std::memcpy(dst, id.data(), id.size());
}

void Message::set_frame_id(std::string_view id) {
    require_writable("set_frame_id");
    write_frame_id(desc_.frame_id, id);
}

void Message::set_timestamp_ns(uint64_t t) {
    require_writable("set_timestamp_ns");
    desc_.timestamp_ns = t;
}

std::pair<TensorDescriptor, Block> Message::copy_payload() const {
    Block b = Pool::instance().allocate(desc_.nbytes);
    if (desc_.nbytes) std::memcpy(b.data(), data(), desc_.nbytes);
    TensorDescriptor d = desc_;
    d.offset = 0;
    d.block = b.ref();
    return {d, std::move(b)};
}

}  // namespace horus

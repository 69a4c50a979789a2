// descriptor.hpp — the fixed-size, position-independent description of a message.
//
// Every message travels as 176 bytes of plain data: a TensorDescriptor (the four
// memory types), or a BytesDescriptor (bytes_descriptor.hpp: typed messages and
// schemaless data) of the same size, told apart by `kind`, their first byte.
//
// A TensorDescriptor is plain data (trivially copyable, no pointers), so it can
// be copied into a topic ring slot in shared memory and read by any process.
// The payload is C-contiguous in the block named by `block`, starting `offset`
// bytes into it. Sending a message = copying this descriptor + taking a ring
// reference on the block; the pixels never move.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "horus/msg/dtype.hpp"
#include "horus/pool/block_ref.hpp"

namespace horus {

enum class MessageKind : uint8_t {
    Tensor = 1,
    Image = 2,
    DepthImage = 3,
    PointCloud = 4,
    Record = 5,  // a typed message (HORUS_MESSAGE / @horus.message)
    Data = 6,    // schemaless MessagePack data
};
inline constexpr uint32_t kMaxMessageKind = 6;

inline constexpr int kMaxDims = 8;
inline constexpr std::size_t kFrameIdCapacity = 64;  // 63 characters + NUL
inline constexpr uint8_t kNoEncoding = 0xFF;

struct TensorDescriptor {
    MessageKind kind = MessageKind::Tensor;
    DType dtype = DType::UInt8;
    uint8_t ndim = 0;
    uint8_t encoding = kNoEncoding;  // Image only: an Encoding value
    uint32_t record_size = 0;  // Tensor of records: bytes per record (= the last dim, dtype uint8); else 0
    uint64_t shape[kMaxDims] = {};
    uint64_t nbytes = 0;        // payload bytes = prod(shape) * itemsize
    uint64_t offset = 0;        // payload start within the block
    uint64_t timestamp_ns = 0;
    BlockRef block{};
    char frame_id[kFrameIdCapacity] = {};
};

static_assert(std::is_trivially_copyable_v<TensorDescriptor>);
static_assert(sizeof(TensorDescriptor) == 176);

}  // namespace horus

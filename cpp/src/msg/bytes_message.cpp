// bytes_message.cpp — allocating and checking bytes messages (see bytes_message.hpp).
#include "horus/msg/bytes_message.hpp"

#include <cstring>
#include <string>

#include "horus/base/error.hpp"
#include "horus/pool/pool.hpp"

namespace horus {

BytesMessage BytesMessage::allocate(MessageKind kind, uint64_t type_hash, uint64_t size, bool allow_inline) {
    if (size > UINT32_MAX)
        throw InvalidArgument("a message of " + std::to_string(size) + " bytes is too large; at most " +
                              std::to_string(UINT32_MAX) + " bytes are supported");
    BytesMessage m;
    m.desc.kind = kind;
    m.desc.type_hash = type_hash;
    m.desc.size = static_cast<uint32_t>(size);
    if (allow_inline && size <= kInlinePayloadBytes) {
        m.desc.storage = PayloadStorage::Inline;
        return m;
    }
    m.block = Pool::instance().allocate(size);
    if (size) std::memset(m.block.data(), 0, size);
    m.desc.storage = PayloadStorage::Pooled;
    m.desc.pooled.block = m.block.ref();
    m.desc.pooled.offset = 0;
    return m;
}

BytesMessage BytesMessage::received(const TensorDescriptor& wire, Block block) {
    BytesMessage m;
    m.desc = bytes_descriptor_of(wire);
    m.desc.frame_id[kFrameIdCapacity - 1] = '\0';
    if (!is_bytes_kind(m.desc.kind))
        throw ShmError("corrupt descriptor: kind " + std::to_string(static_cast<int>(m.desc.kind)) +
                       " is not a typed message or data");
    switch (m.desc.storage) {
        case PayloadStorage::Inline:
            if (m.desc.size > kInlinePayloadBytes)
                throw ShmError("corrupt descriptor: an inline payload of " + std::to_string(m.desc.size) + " bytes");
            return m;
        case PayloadStorage::Pooled:
            if (!block.valid()) throw ShmError("corrupt descriptor: a pooled payload without its block");
            if (m.desc.pooled.offset > block.capacity() || m.desc.size > block.capacity() - m.desc.pooled.offset)
                throw ShmError("corrupt descriptor: a payload of " + std::to_string(m.desc.size) + " bytes at offset " +
                               std::to_string(m.desc.pooled.offset) + " exceeds its block of " +
                               std::to_string(block.capacity()) + " bytes");
            block.seal();
            m.block = std::move(block);
            return m;
    }
    throw ShmError("corrupt descriptor: payload storage " + std::to_string(static_cast<int>(m.desc.storage)));
}

}  // namespace horus

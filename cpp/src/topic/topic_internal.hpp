// topic_internal.hpp — helpers shared by the topic layer's source files only.
#pragma once

#include <atomic>
#include <cstring>
#include <string>

#include "horus/base/shm_object.hpp"
#include "horus/msg/bytes_descriptor.hpp"
#include "horus/msg/message.hpp"
#include "horus/msg/record_layout.hpp"
#include "horus/topic/topic_layout.hpp"

namespace horus::topic_internal {
namespace tl = topic_layout;

inline std::string kind_str(uint32_t kind) {
    return kind == 0 ? std::string("untyped") : std::string(kind_name(static_cast<MessageKind>(kind)));
}

inline bool kind_valid(uint32_t k) { return k <= kMaxMessageKind; }

inline bool live(const std::atomic<uint32_t>& state) {
    return state.load(std::memory_order_relaxed) == static_cast<uint32_t>(tl::EntryState::Live);
}

/// Stores the words of `d` that carry content (wire_extent, msg/bytes_descriptor.hpp).
inline void store_descriptor(tl::TopicSlot& slot, const TensorDescriptor& d) {
    uint64_t words[tl::kDescriptorWords];
    std::memcpy(words, &d, sizeof d);
    const WireExtent e = wire_extent(words[0]);
    for (std::size_t i = 0; i < e.head; ++i)
        std::atomic_ref<uint64_t>(slot.words[i]).store(words[i], std::memory_order_relaxed);
    for (std::size_t i = e.frame_begin; i < e.frame_begin + e.frame; ++i)
        std::atomic_ref<uint64_t>(slot.words[i]).store(words[i], std::memory_order_relaxed);
}

/// Every word of the slot's descriptor (stale ones included: for the block reference,
/// which a descriptor that names one always stores).
inline TensorDescriptor load_descriptor(tl::TopicSlot& slot) {
    uint64_t words[tl::kDescriptorWords];
    for (std::size_t i = 0; i < tl::kDescriptorWords; ++i)
        words[i] = std::atomic_ref<uint64_t>(slot.words[i]).load(std::memory_order_relaxed);
    TensorDescriptor d;
    std::memcpy(&d, words, sizeof d);
    return d;
}

/// The words that carry content, the others zero: what a reader uses.
inline TensorDescriptor load_message_descriptor(tl::TopicSlot& slot) {
    const uint64_t word0 = std::atomic_ref<uint64_t>(slot.words[0]).load(std::memory_order_relaxed);
    if (!is_bytes_kind(static_cast<MessageKind>(word0 & 0xFF))) return load_descriptor(slot);  // a tensor: every word
    uint64_t words[tl::kDescriptorWords] = {};
    words[0] = word0;
    const WireExtent e = wire_extent(words[0]);
    for (std::size_t i = 1; i < e.head; ++i)
        words[i] = std::atomic_ref<uint64_t>(slot.words[i]).load(std::memory_order_relaxed);
    for (std::size_t i = e.frame_begin; i < e.frame_begin + e.frame; ++i)
        words[i] = std::atomic_ref<uint64_t>(slot.words[i]).load(std::memory_order_relaxed);
    TensorDescriptor d;
    std::memcpy(&d, words, sizeof d);
    return d;
}

/// True if `slot` is complete and owns a ring reference on its block (under the mutex).
inline bool slot_holds_ref(const tl::TopicSlot& slot) {
    return seqlock::is_complete(slot.seq.load(std::memory_order_acquire)) &&
           slot.holds_ref.load(std::memory_order_relaxed) != 0;
}

/// The pool block the descriptor in `slot` names (nullopt: an inline message).
inline std::optional<BlockRef> slot_block(tl::TopicSlot& slot) { return descriptor_block(load_descriptor(slot)); }

/// How a Topic uses the topic, for check_type_locked().
enum class TypeUse { Open, Send };

/// Under the topic mutex: checks that a user of `kind` (0: any) with record type `record`
/// (a Record topic's layout, or a Tensor of records' layout; else nullptr) may open or
/// send on the topic in `h`, and types an untyped topic. Sending a plain Tensor on a
/// Tensor-of-records topic is refused. Throws TypeMismatch naming the topic and both types.
void check_type_locked(tl::TopicHeader* h, const std::string& name, uint32_t kind, const RecordLayout* record,
                       TypeUse use);

/// `p` (at most `capacity` bytes, NUL-terminated or not) with every byte outside
/// printable ASCII replaced by '?': header text that a corrupt writer may have garbled.
std::string printable(const char* p, std::size_t capacity);

/// "BatteryState messages (layout hash 0x...: BatteryState{...}60)" for the topic in `h`.
std::string topic_type_str(const tl::TopicHeader* h);

inline tl::TopicSlot* slots_of(void* base) {
    return reinterpret_cast<tl::TopicSlot*>(static_cast<std::byte*>(base) + sizeof(tl::TopicHeader));
}

/// The capacity of the topic in `seg` if it is a topic of this version whose header and
/// size agree, else 0. Callers use the returned value, never a second read of the header.
inline uint32_t topic_segment_capacity(const ShmObject& seg) {
    if (seg.size() < sizeof(tl::TopicHeader)) return 0;
    const auto* h = static_cast<const tl::TopicHeader*>(seg.data());
    const uint32_t c = h->capacity;
    const bool ok = h->magic == tl::kTopicMagic && h->version == tl::kTopicVersion &&
                    h->header_size == sizeof(tl::TopicHeader) && c != 0 && c <= tl::kMaxCapacity &&
                    (c & (c - 1)) == 0 && seg.size() == tl::topic_bytes(c) && kind_valid(h->kind.load());
    return ok ? c : 0;
}

/// Under the topic mutex: frees the entries of users that are no longer live and the
/// subscriber entries of processes that are no longer users; recounts
/// overflow_subscribers. True if a live user remains.
bool reap_dead_users(tl::TopicHeader* h) noexcept;

/// Under the topic mutex: lowers subscriber_limit past the free entries at its top.
void shrink_subscriber_limit(tl::TopicHeader* h) noexcept;

}  // namespace horus::topic_internal

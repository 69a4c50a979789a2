// record_topic.cpp — the non-template parts of Topic<T> for typed messages.
#include "horus/topic/record_topic.hpp"

#include <cctype>
#include <cstring>

#include "horus/base/error.hpp"
#include "horus/msg/message.hpp"

namespace horus {

BytesMessage make_record_message(const RecordLayout& layout, const void* value, uint64_t timestamp_ns,
                                 std::string_view frame_id) {
    if (layout.has_checks()) {
        const std::string bad = layout.first_invalid(static_cast<const std::byte*>(value));
        if (!bad.empty()) throw InvalidArgument("cannot send this " + layout.name() + ": " + bad);
    }
    BytesMessage m = BytesMessage::allocate(MessageKind::Record, layout.hash(), layout.size());
    std::memcpy(m.data(), value, layout.size());
    layout.clear_padding(m.data());
    m.desc.timestamp_ns = timestamp_ns;
    if (!frame_id.empty()) write_frame_id(m.desc.frame_id, frame_id);  // (publish sets frame_len)
    return m;
}

bool read_record(TopicEndpoint& endpoint, const RecordLayout& layout, void* out, uint64_t& timestamp_ns,
                 std::string& frame_id) {
    for (;;) {
        TensorDescriptor wire;
        Block block;
        if (!endpoint.try_read(wire, block)) return false;
        try {
            const BytesMessage m = BytesMessage::received(wire, std::move(block));
            if (m.holds_record_of(layout)) {
                std::memcpy(out, m.data(), layout.size());
                timestamp_ns = m.desc.timestamp_ns;
                frame_id.assign(m.desc.frame_id);
                return true;
            }
        } catch (const ShmError&) {
        }
        endpoint.count_dropped();  // a corrupt descriptor is skipped, never trusted
    }
}

std::string default_topic_name(std::string_view type_name) {
    std::string n(type_name);
    for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return n;
}

}  // namespace horus

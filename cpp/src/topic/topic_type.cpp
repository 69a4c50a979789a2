// topic_type.cpp — a topic's message type: its kind, and for typed messages and
// Tensors of records the record layout; checked whenever a Topic opens or sends.
#include <algorithm>
#include <cstring>

#include "horus/base/error.hpp"
#include "topic_internal.hpp"

namespace horus::topic_internal {
namespace {

std::string layout_str(uint64_t hash, std::string_view text) {
    return "layout " + std::string(text) + " (hash " + hash_hex(hash) + ")";
}

/// "BatteryState messages with layout ..." for a user's side of a mismatch.
std::string user_type_str(uint32_t kind, const RecordLayout* record) {
    if (record && kind == static_cast<uint32_t>(MessageKind::Record))
        return record->name() + " messages with " + layout_str(record->hash(), record->text());
    if (record) return "Tensors of " + record->name() + " records with " + layout_str(record->hash(), record->text());
    if (kind == static_cast<uint32_t>(MessageKind::Tensor)) return "plain Tensor messages (no record type)";
    return kind_str(kind) + " messages";
}

void set_type_locked(tl::TopicHeader* h, const RecordLayout& record) {
    std::memset(h->type_name, 0, sizeof h->type_name);
    std::memcpy(h->type_name, record.name().data(), std::min(record.name().size(), tl::kTypeNameCapacity - 1));
    std::memset(h->type_text, 0, sizeof h->type_text);
    std::string text = record.text();
    if (text.size() >= tl::kTypeTextCapacity) text = text.substr(0, tl::kTypeTextCapacity - 4) + "...";
    std::memcpy(h->type_text, text.data(), text.size());
    h->type_hash.store(record.hash(), std::memory_order_release);
}

}  // namespace

/// Header text as printable ASCII (names and layouts are; a corrupt header may not be).
std::string printable(const char* p, std::size_t capacity) {
    std::string s(p, strnlen(p, capacity));
    for (char& c : s)
        if (c < 0x20 || c > 0x7E) c = '?';
    return s;
}

std::string topic_type_str(const tl::TopicHeader* h) {
    const uint32_t k = h->kind.load(std::memory_order_acquire);
    const uint64_t hash = h->type_hash.load(std::memory_order_acquire);
    if (hash == 0) return kind_str(k) + " messages";
    const std::string name = printable(h->type_name, tl::kTypeNameCapacity);
    const std::string text = printable(h->type_text, tl::kTypeTextCapacity);
    if (k == static_cast<uint32_t>(MessageKind::Record))
        return name + " messages with " + layout_str(hash, text);
    return "Tensors of " + name + " records with " + layout_str(hash, text);
}

void check_type_locked(tl::TopicHeader* h, const std::string& name, uint32_t kind, const RecordLayout* record,
                       TypeUse use) {
    if (kind == 0) return;
    const char* verb = use == TypeUse::Open ? "cannot open it for " : "cannot send ";
    const auto refuse = [&] {
        throw TypeMismatch("topic '" + name + "' carries " + topic_type_str(h) + "; " + verb +
                           user_type_str(kind, record));
    };
    uint32_t k = h->kind.load(std::memory_order_acquire);
    if (k != 0 && k != kind) {
        // Kinds only (the wording every memory type has used): "carries Image messages; cannot ..."
        if (h->type_hash.load(std::memory_order_acquire) == 0 && !record)
            throw TypeMismatch("topic '" + name + "' carries " + kind_str(k) + " messages; " + verb +
                               (use == TypeUse::Send ? "a " : "") + kind_str(kind));
        refuse();
    }
    const uint64_t hash = h->type_hash.load(std::memory_order_acquire);
    if (record) {
        if (hash == 0) {
            // A Tensor topic that already carried plain tensors stays plain: typing it now
            // would make its publishers' next send fail.
            if (k == static_cast<uint32_t>(MessageKind::Tensor) && h->write_seq.load(std::memory_order_acquire) > 0)
                refuse();
            set_type_locked(h, *record);
        } else if (hash != record->hash()) {
            refuse();
        }
    } else if (hash != 0 && (use == TypeUse::Send || kind == static_cast<uint32_t>(MessageKind::Record))) {
        refuse();  // a plain Tensor sent on a Tensor-of-records topic; a Record user without a layout
    }
    if (k == 0) h->kind.store(kind, std::memory_order_release);
}

}  // namespace horus::topic_internal

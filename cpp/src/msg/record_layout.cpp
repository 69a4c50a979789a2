// record_layout.cpp — laying out a typed message by the C rules, its canonical text
// and hash (see record_layout.hpp).
#include "horus/msg/record_layout.hpp"

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "horus/base/error.hpp"
#include "horus/msg/utf8.hpp"

namespace horus {
namespace {

bool is_identifier(std::string_view s) {
    if (s.empty()) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!(alpha || (i > 0 && c >= '0' && c <= '9'))) return false;
    }
    return true;
}

uint64_t round_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

}  // namespace

uint64_t layout_hash_of(std::string_view text) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : text) {
        h ^= c;
        h *= 0x100000001b3ull;
    }
    return h == 0 ? 1 : h;
}

std::string hash_hex(uint64_t hash) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s = "0x";
    for (int shift = 60; shift >= 0; shift -= 4) s += kHex[(hash >> shift) & 15];
    return s;
}

std::string RecordField::type_text() const {
    std::string t;
    switch (kind) {
        case FieldKind::Scalar: t = std::string(dtype_name(dtype)); break;
        case FieldKind::String: t = "string<" + std::to_string(string_capacity) + ">"; break;
        case FieldKind::Record: t = record->name() + "#" + hash_hex(record->hash()).substr(2); break;
    }
    for (uint64_t d : dims) t += "[" + std::to_string(d) + "]";
    return t;
}

std::shared_ptr<const RecordLayout> RecordLayout::make(std::string name, std::vector<FieldSpec> specs,
                                                       std::optional<uint64_t> expected_size) {
    if (!is_identifier(name) || name.size() > kMaxNameLength)
        throw InvalidArgument("message name '" + name + "' is invalid: use a C identifier of 1 to " +
                              std::to_string(kMaxNameLength) + " characters ([A-Za-z_][A-Za-z0-9_]*)");
    if (specs.empty()) throw InvalidArgument("message " + name + " has no fields; declare at least one");
    if (specs.size() > kMaxFields)
        throw InvalidArgument("message " + name + " has " + std::to_string(specs.size()) + " fields; at most " +
                              std::to_string(kMaxFields) + " are supported");
    std::shared_ptr<RecordLayout> layout(new RecordLayout());
    layout->name_ = name;
    std::unordered_set<std::string> seen;
    uint64_t offset = 0;
    for (FieldSpec& s : specs) {
        const std::string where = "field '" + s.name + "' of message " + name;
        if (!is_identifier(s.name) || s.name.size() > kMaxNameLength)
            throw InvalidArgument("field name '" + s.name + "' of message " + name +
                                  " is invalid: use a C identifier of 1 to " + std::to_string(kMaxNameLength) +
                                  " characters");
        if (!seen.insert(s.name).second) throw InvalidArgument(where + " is declared twice");
        RecordField f;
        f.name = s.name;
        f.kind = s.kind;
        f.dims = s.dims;
        switch (s.kind) {
            case FieldKind::Scalar:
                if (static_cast<int>(s.dtype) >= kDTypeCount)
                    throw InvalidArgument(where + " has an invalid dtype code " +
                                          std::to_string(static_cast<int>(s.dtype)));
                f.dtype = s.dtype;
                f.element_size = f.alignment = dtype_size(s.dtype);
                break;
            case FieldKind::String:
                if (s.string_capacity == 0 || s.string_capacity > kMaxSize)
                    throw InvalidArgument(where + ": string capacity " + std::to_string(s.string_capacity) +
                                          " is invalid; it must be 1 to " + std::to_string(kMaxSize) + " bytes");
                f.string_capacity = s.string_capacity;
                f.element_size = s.string_capacity;
                f.alignment = 1;
                break;
            case FieldKind::Record:
                if (!s.record) throw InvalidArgument(where + " is a nested message without a layout");
                if (!s.dims.empty())
                    throw InvalidArgument(where + ": arrays of messages are not supported as fields; "
                                          "send a Tensor of records for a variable-length list");
                f.record = s.record;
                f.element_size = s.record->size();
                f.alignment = s.record->alignment();
                break;
        }
        if (f.dims.size() > 4)
            throw InvalidArgument(where + " has " + std::to_string(f.dims.size()) +
                                  " array dimensions; at most 4 are supported");
        for (uint64_t d : f.dims) {
            if (d == 0 || d > kMaxSize)
                throw InvalidArgument(where + ": array dimension " + std::to_string(d) + " is invalid; it must be 1 to " +
                                      std::to_string(kMaxSize));
            f.count *= d;
            if (f.count > kMaxSize) throw InvalidArgument(where + " is larger than " + std::to_string(kMaxSize) + " bytes");
        }
        if (f.size() > kMaxSize)
            throw InvalidArgument(where + " is larger than " + std::to_string(kMaxSize) + " bytes");
        const uint64_t at = round_up(offset, f.alignment);
        if (at > offset) layout->padding_.emplace_back(offset, at);
        f.offset = at;
        if (s.offset && *s.offset != at)
            throw InvalidArgument(where + " is declared at offset " + std::to_string(*s.offset) +
                                  " but the C layout puts it at " + std::to_string(at));
        offset = at + f.size();
        if (offset > kMaxSize)
            throw InvalidArgument("message " + name + " is larger than " + std::to_string(kMaxSize) + " bytes");
        layout->alignment_ = std::max(layout->alignment_, f.alignment);
        // What valid() checks (bools, strings) and the padding, nested ones at their place here.
        const auto element_name = [&](uint64_t i) {
            return f.count == 1 && f.dims.empty() ? f.name : f.name + "[" + std::to_string(i) + "]";
        };
        if (f.kind == FieldKind::Scalar && f.dtype == DType::Bool)
            for (uint64_t i = 0; i < f.count; ++i) layout->checks_.push_back({f.offset + i, 0, element_name(i)});
        if (f.kind == FieldKind::String)
            for (uint64_t i = 0; i < f.count; ++i)
                layout->checks_.push_back({f.offset + i * f.string_capacity, f.string_capacity, element_name(i)});
        if (f.kind == FieldKind::Record) {
            for (const Check& c : f.record->checks_)
                layout->checks_.push_back({f.offset + c.offset, c.capacity, f.name + "." + c.field});
            for (auto [b, e] : f.record->padding_) layout->padding_.emplace_back(f.offset + b, f.offset + e);
        }
        layout->fields_.push_back(std::move(f));
    }
    layout->size_ = round_up(offset, layout->alignment_);
    if (layout->size_ > offset) layout->padding_.emplace_back(offset, layout->size_);
    if (expected_size && *expected_size != layout->size_)
        throw InvalidArgument("message " + name + " is declared with " + std::to_string(*expected_size) +
                              " bytes but its C layout has " + std::to_string(layout->size_));
    std::string text = name + "{";
    for (std::size_t i = 0; i < layout->fields_.size(); ++i) {
        const RecordField& f = layout->fields_[i];
        text += (i ? "," : "") + f.name + ":" + f.type_text() + "@" + std::to_string(f.offset);
    }
    text += "}" + std::to_string(layout->size_);
    layout->text_ = std::move(text);
    layout->hash_ = layout_hash_of(layout->text_);
    return layout;
}

const RecordField* RecordLayout::find(std::string_view name) const {
    for (const RecordField& f : fields_)
        if (f.name == name) return &f;
    return nullptr;
}

std::string RecordLayout::first_invalid(const std::byte* bytes) const {
    for (const Check& c : checks_) {
        if (c.capacity == 0) {
            const unsigned v = std::to_integer<unsigned>(bytes[c.offset]);
            if (v > 1)
                return "field '" + c.field + "' (offset " + std::to_string(c.offset) + ") holds byte " +
                       std::to_string(v) + "; a bool is 0 or 1";
            continue;
        }
        const char* p = reinterpret_cast<const char*>(bytes + c.offset);
        const std::string_view text(p, strnlen(p, c.capacity));
        const std::size_t bad = first_invalid_utf8(text);
        if (bad != std::string_view::npos)
            return "field '" + c.field + "' (offset " + std::to_string(c.offset) + ") is not UTF-8 at byte " +
                   std::to_string(bad);
    }
    return {};
}

void RecordLayout::clear_padding(std::byte* bytes) const {
    for (auto [b, e] : padding_) std::memset(bytes + b, 0, e - b);
}

}  // namespace horus

// record_layout.hpp — RecordLayout: the runtime description of a typed message (a
// "record"): its name, fields, C layout and layout hash.
//
// Both declarations build one: C++'s HORUS_MESSAGE (record.hpp) from the compiler's
// offsets, Python's @horus.message from NumPy's aligned dtype. make() lays the fields
// out by the C rules itself (natural alignment, size rounded up to the alignment) and
// refuses a declaration whose offsets or size disagree, so the two languages cannot
// drift: equal declarations give equal bytes and an equal hash.
//
// The layout hash is FNV-1a (64 bit) of text(), a canonical spelling of the name,
// every field's name, type and offset, and the size, e.g.
//   BatteryState{voltage:float32@0,cell_voltages:float32[8]@4,...}60
// A nested record is spelled by its name and hash ("position:Point#9f..@0"), so a
// change anywhere inside changes every hash above it. It is never 0 (0 means untyped).
// A layout is immutable once made; share it through shared_ptr.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "horus/msg/dtype.hpp"

namespace horus {

class RecordLayout;

enum class FieldKind : uint8_t { Scalar = 0, String = 1, Record = 2 };

/// What a declaration says about one field.
struct FieldSpec {
    std::string name;
    FieldKind kind = FieldKind::Scalar;
    DType dtype = DType::UInt8;                  // Scalar: the element type
    uint64_t string_capacity = 0;                // String: bytes per string
    std::shared_ptr<const RecordLayout> record;  // Record: the nested message
    std::vector<uint64_t> dims;                  // array dimensions (C order); empty = one value
    std::optional<uint64_t> offset;              // the declaring language's offset, checked by make()
};

/// One field as laid out.
struct RecordField {
    std::string name;
    FieldKind kind = FieldKind::Scalar;
    DType dtype = DType::UInt8;
    uint64_t string_capacity = 0;
    std::shared_ptr<const RecordLayout> record;
    std::vector<uint64_t> dims;
    uint64_t count = 1;         // elements: the product of dims (1 without dims)
    uint64_t element_size = 0;  // bytes per element
    uint64_t alignment = 1;
    uint64_t offset = 0;        // from the start of the record
    uint64_t size() const { return count * element_size; }
    /// "float32[8]", "string<16>", "Point#0123456789abcdef"
    std::string type_text() const;
};

class RecordLayout : public std::enable_shared_from_this<RecordLayout> {
  public:
    static constexpr std::size_t kMaxNameLength = 63;
    static constexpr std::size_t kMaxFields = 256;
    static constexpr uint64_t kMaxSize = uint64_t{64} << 20;  // 64 MiB

    /// Lays out `fields` by the C rules. Throws InvalidArgument for a bad name (not a C
    /// identifier of 1..63 characters), no fields or more than kMaxFields, a duplicate
    /// or bad field name, a zero dimension or capacity, a size beyond kMaxSize, and when a
    /// given offset or `expected_size` differs from the C layout (naming the field and
    /// both values).
    static std::shared_ptr<const RecordLayout> make(std::string name, std::vector<FieldSpec> fields,
                                                    std::optional<uint64_t> expected_size = std::nullopt);

    const std::string& name() const { return name_; }
    uint64_t size() const { return size_; }
    uint64_t alignment() const { return alignment_; }
    uint64_t hash() const { return hash_; }
    /// The canonical text the hash is computed from.
    const std::string& text() const { return text_; }
    std::span<const RecordField> fields() const { return fields_; }
    /// The field called `name`, or nullptr.
    const RecordField* find(std::string_view name) const;

    /// True when `bytes` (size() of them) is a value both languages can read: every bool
    /// is 0 or 1 and every string is UTF-8 up to its first NUL, in nested records too.
    bool valid(const std::byte* bytes) const { return checks_.empty() || first_invalid(bytes).empty(); }
    /// "" if valid(), else what is wrong: "field 'charging' (offset 40) holds byte 7; a bool is 0 or 1".
    std::string first_invalid(const std::byte* bytes) const;
    /// False when every byte pattern is a valid value (no bools, no strings): valid() is free.
    bool has_checks() const { return !checks_.empty(); }
    /// Sets every padding byte of `bytes` to 0 (a C++ struct's padding is unspecified;
    /// zeroed, equal values have equal bytes and no stack garbage leaves the process).
    void clear_padding(std::byte* bytes) const;

    RecordLayout(const RecordLayout&) = delete;
    RecordLayout& operator=(const RecordLayout&) = delete;

  private:
    RecordLayout() = default;

    std::string name_;
    std::vector<RecordField> fields_;
    uint64_t size_ = 0;
    uint64_t alignment_ = 1;
    uint64_t hash_ = 0;
    std::string text_;
    struct Check {
        uint64_t offset;
        uint64_t capacity;  // 0: a bool byte; else a string of this capacity
        std::string field;  // for messages: "charging", "pose.name[3]"
    };
    std::vector<Check> checks_;                           // every bool and string, nested included
    std::vector<std::pair<uint64_t, uint64_t>> padding_;  // [begin, end) ranges, nested included
};

/// FNV-1a 64 of `text` (never 0: a 0 result is mapped to 1).
uint64_t layout_hash_of(std::string_view text);

/// "0x0123456789abcdef"
std::string hash_hex(uint64_t hash);

}  // namespace horus

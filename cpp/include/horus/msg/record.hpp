// record.hpp — HORUS_MESSAGE: declaring a typed message in C++.
//
//   HORUS_MESSAGE(BatteryState,
//       (float, voltage), (float, current), (horus::Array<float, 8>, cell_voltages),
//       (bool, charging), (horus::String<16>, name));
//
// defines `struct BatteryState` with those members in that order (each zero-initialised,
// so BatteryState{} is all zeros and BatteryState{12.4f} sets voltage), a defaulted
// operator==, and reflection:
//   BatteryState::horus_layout()  the RecordLayout (name, fields, offsets, size)
//   BatteryState::layout_hash()   equal to the Python declaration's layout_hash
// The struct is standard-layout and trivially copyable (static_assert), so its bytes
// are the message. Field types: bool, int8_t..uint64_t, float, double, horus::Float16,
// horus::Array<T, Dims...> (T a scalar or a horus::String<N>), horus::String<N>, and
// other HORUS_MESSAGE types (nested by value). Up to 256 fields; a type with up to four
// commas in it (horus::Array<float, 2, 2, 2, 2>) needs no extra parentheses.
//
// horus::Stamped<T> is a message with the metadata every message carries beside its
// fields (timestamp_ns, frame_id); Topic<T> sends and receives it (topic/record_topic.hpp).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "horus/msg/record_layout.hpp"
#include "horus/msg/record_types.hpp"

namespace horus {

/// A type declared with HORUS_MESSAGE.
template <typename T>
concept Record = requires {
    { T::horus_layout() } -> std::same_as<const RecordLayout&>;
} && std::is_trivially_copyable_v<T> && std::is_standard_layout_v<T>;

/// A typed message and its metadata.
template <Record T>
struct Stamped {
    T value{};
    uint64_t timestamp_ns = 0;
    std::string frame_id;
};

namespace detail {

template <typename T>
struct FieldTraits {
    static constexpr bool supported = false;
};

template <typename T>
constexpr DType scalar_dtype() {
    if constexpr (std::is_same_v<T, bool>) return DType::Bool;
    else if constexpr (std::is_same_v<T, float>) return DType::Float32;
    else if constexpr (std::is_same_v<T, double>) return DType::Float64;
    else if constexpr (std::is_same_v<T, Float16>) return DType::Float16;
    else if constexpr (std::is_signed_v<T>)
        return sizeof(T) == 1 ? DType::Int8 : sizeof(T) == 2 ? DType::Int16 : sizeof(T) == 4 ? DType::Int32 : DType::Int64;
    else
        return sizeof(T) == 1 ? DType::UInt8 : sizeof(T) == 2 ? DType::UInt16 : sizeof(T) == 4 ? DType::UInt32 : DType::UInt64;
}

template <typename T>
concept ScalarField = std::is_same_v<T, bool> || std::is_same_v<T, float> || std::is_same_v<T, double> ||
                      std::is_same_v<T, Float16> ||
                      (std::is_integral_v<T> && !std::is_same_v<T, char> && !std::is_same_v<T, wchar_t> &&
                       !std::is_same_v<T, char8_t> && !std::is_same_v<T, char16_t> && !std::is_same_v<T, char32_t>);

template <ScalarField T>
struct FieldTraits<T> {
    static constexpr bool supported = true;
    static FieldSpec spec() {
        FieldSpec s;
        s.kind = FieldKind::Scalar;
        s.dtype = scalar_dtype<T>();
        return s;
    }
};

template <std::size_t N>
struct FieldTraits<String<N>> {
    static constexpr bool supported = true;
    static FieldSpec spec() {
        FieldSpec s;
        s.kind = FieldKind::String;
        s.string_capacity = N;
        return s;
    }
};

template <typename T>
inline constexpr bool is_string_v = false;
template <std::size_t N>
inline constexpr bool is_string_v<String<N>> = true;

template <typename T, std::size_t... Dims>
    requires(ScalarField<T> || is_string_v<T>)
struct FieldTraits<Array<T, Dims...>> {
    static constexpr bool supported = true;
    static FieldSpec spec() {
        FieldSpec s = FieldTraits<T>::spec();
        s.dims = {Dims...};
        return s;
    }
};

template <Record T>
struct FieldTraits<T> {
    static constexpr bool supported = true;
    static FieldSpec spec() {
        FieldSpec s;
        s.kind = FieldKind::Record;
        s.record = T::horus_layout().shared_from_this();
        return s;
    }
};

template <typename T>
FieldSpec field_spec(const char* name, std::size_t offset) {
    FieldSpec s = FieldTraits<T>::spec();
    s.name = name;
    s.offset = offset;
    return s;
}

/// Builds the layout of a HORUS_MESSAGE type once, checked against the compiler's
/// offsets and size (a mismatch is a horus bug or an unusual ABI: it throws Error).
std::shared_ptr<const RecordLayout> declare_layout(const char* name, std::size_t size, std::vector<FieldSpec> fields);

}  // namespace detail

/// Every layout declared in this process so far (C++ types once used, Python classes).
void register_record_layout(const std::shared_ptr<const RecordLayout>& layout);
/// The declared layout with this hash, or nullptr.
std::shared_ptr<const RecordLayout> find_record_layout(uint64_t hash);
}  // namespace horus

// ---- preprocessor machinery -------------------------------------------------------
#define HORUS_PP_PARENS ()
#define HORUS_PP_EXPAND(...) HORUS_PP_EXPAND4(HORUS_PP_EXPAND4(HORUS_PP_EXPAND4(HORUS_PP_EXPAND4(__VA_ARGS__))))
#define HORUS_PP_EXPAND4(...) HORUS_PP_EXPAND3(HORUS_PP_EXPAND3(HORUS_PP_EXPAND3(HORUS_PP_EXPAND3(__VA_ARGS__))))
#define HORUS_PP_EXPAND3(...) HORUS_PP_EXPAND2(HORUS_PP_EXPAND2(HORUS_PP_EXPAND2(HORUS_PP_EXPAND2(__VA_ARGS__))))
#define HORUS_PP_EXPAND2(...) HORUS_PP_EXPAND1(HORUS_PP_EXPAND1(HORUS_PP_EXPAND1(HORUS_PP_EXPAND1(__VA_ARGS__))))
#define HORUS_PP_EXPAND1(...) __VA_ARGS__
// HORUS_PP_FOR_EACH(m, data, a, b, c) -> m(data, a) m(data, b) m(data, c)   (up to 256 items:
// RecordLayout::kMaxFields)
#define HORUS_PP_FOR_EACH(macro, data, ...) \
    __VA_OPT__(HORUS_PP_EXPAND(HORUS_PP_FOR_EACH_HELPER(macro, data, __VA_ARGS__)))
#define HORUS_PP_FOR_EACH_HELPER(macro, data, a1, ...) \
    macro(data, a1) __VA_OPT__(HORUS_PP_FOR_EACH_AGAIN HORUS_PP_PARENS(macro, data, __VA_ARGS__))
#define HORUS_PP_FOR_EACH_AGAIN() HORUS_PP_FOR_EACH_HELPER
#define HORUS_PP_CAT(a, b) HORUS_PP_CAT_I(a, b)
#define HORUS_PP_CAT_I(a, b) a##b
#define HORUS_PP_NARGS(...) HORUS_PP_NARGS_I(__VA_ARGS__, 6, 5, 4, 3, 2, 1, 0)
#define HORUS_PP_NARGS_I(_1, _2, _3, _4, _5, _6, n, ...) n
// A field (type, name): the type may contain commas (template arguments), the name is last.
#define HORUS_PP_FIELD_TYPE(...) HORUS_PP_CAT(HORUS_PP_FIELD_TYPE_, HORUS_PP_NARGS(__VA_ARGS__))(__VA_ARGS__)
#define HORUS_PP_FIELD_TYPE_2(a, n) a
#define HORUS_PP_FIELD_TYPE_3(a, b, n) a, b
#define HORUS_PP_FIELD_TYPE_4(a, b, c, n) a, b, c
#define HORUS_PP_FIELD_TYPE_5(a, b, c, d, n) a, b, c, d
#define HORUS_PP_FIELD_TYPE_6(a, b, c, d, e, n) a, b, c, d, e
#define HORUS_PP_FIELD_NAME(...) HORUS_PP_CAT(HORUS_PP_FIELD_NAME_, HORUS_PP_NARGS(__VA_ARGS__))(__VA_ARGS__)
#define HORUS_PP_FIELD_NAME_2(a, n) n
#define HORUS_PP_FIELD_NAME_3(a, b, n) n
#define HORUS_PP_FIELD_NAME_4(a, b, c, n) n
#define HORUS_PP_FIELD_NAME_5(a, b, c, d, n) n
#define HORUS_PP_FIELD_NAME_6(a, b, c, d, e, n) n
#define HORUS_PP_STR(x) HORUS_PP_STR_I(x)
#define HORUS_PP_STR_I(x) #x

#define HORUS_DETAIL_MEMBER(Name, field)                                                      \
    static_assert(::horus::detail::FieldTraits<HORUS_PP_FIELD_TYPE field>::supported,         \
                  "HORUS_MESSAGE(" #Name "): field '" HORUS_PP_STR(HORUS_PP_FIELD_NAME field) \
                  "' has an unsupported type (use bool, int8_t..uint64_t, float, double, "    \
                  "horus::Float16, horus::Array, horus::String or another HORUS_MESSAGE)");   \
    HORUS_PP_FIELD_TYPE field HORUS_PP_FIELD_NAME field{};
#define HORUS_DETAIL_SPEC(Name, field)                          \
    ::horus::detail::field_spec<HORUS_PP_FIELD_TYPE field>(     \
        HORUS_PP_STR(HORUS_PP_FIELD_NAME field), offsetof(Name, HORUS_PP_FIELD_NAME field)),

/// Declares a typed message: HORUS_MESSAGE(Name, (type, field), ...); see the file comment.
#define HORUS_MESSAGE(Name, ...)                                                                          \
    struct Name {                                                                                         \
        HORUS_PP_FOR_EACH(HORUS_DETAIL_MEMBER, Name, __VA_ARGS__)                                         \
        static const ::horus::RecordLayout& horus_layout() {                                              \
            static const std::shared_ptr<const ::horus::RecordLayout> layout =                            \
                ::horus::detail::declare_layout(#Name, sizeof(Name),                                      \
                                                {HORUS_PP_FOR_EACH(HORUS_DETAIL_SPEC, Name, __VA_ARGS__)}); \
            return *layout;                                                                               \
        }                                                                                                 \
        static uint64_t layout_hash() { return horus_layout().hash(); }                                   \
        bool operator==(const Name&) const = default;                                                     \
    };                                                                                                    \
    static_assert(std::is_standard_layout_v<Name> && std::is_trivially_copyable_v<Name>,                  \
                  "HORUS_MESSAGE(" #Name ") must be standard-layout and trivially copyable")

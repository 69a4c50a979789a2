// record_types.hpp — field types of typed messages that C++ has no plain spelling for:
// fixed-size arrays, fixed-capacity UTF-8 text and half-precision floats.
//
// Each is a standard-layout, trivially copyable value whose bytes are exactly the
// C layout the Python declaration computes (horus.array / horus.string / np.float16),
// so a record's bytes mean the same in both languages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace horus {

/// An IEEE 754 binary16 value, stored as its bits (C++20 has no standard half type).
struct Float16 {
    uint16_t bits = 0;
    /// Throws InvalidArgument when a finite `v` is beyond +-65504 (the largest half).
    static Float16 from_double(double v);
    double to_double() const;
    bool operator==(const Float16&) const = default;
};

/// `N` bytes of UTF-8 text, NUL-padded (no terminator when all `N` bytes are used).
template <std::size_t N>
struct String {
    static_assert(N >= 1, "horus::String needs a capacity of at least 1 byte");
    static constexpr std::size_t capacity = N;
    char data[N] = {};

    /// The text up to the first NUL (or all N bytes).
    std::string_view view() const {
        std::size_t n = 0;
        while (n < N && data[n] != '\0') ++n;
        return {data, n};
    }
    std::string str() const { return std::string(view()); }
    /// Replaces the text; InvalidArgument if longer than N bytes, with a NUL or not UTF-8.
    void assign(std::string_view text);
    String& operator=(std::string_view text) {
        assign(text);
        return *this;
    }
    bool operator==(const String&) const = default;
};

namespace detail {
void check_string_fits(std::string_view text, std::size_t capacity);
}

template <std::size_t N>
void String<N>::assign(std::string_view text) {
    detail::check_string_fits(text, N);
    std::memset(data, 0, N);
    std::memcpy(data, text.data(), text.size());
}

/// A fixed-size array of `T` (a scalar or a String<N>) with `Dims...` dimensions in C
/// order: Array<float, 8> is float[8], Array<double, 3, 3> is double[3][3] (flat storage,
/// element (i, j) at i * 3 + j).
template <typename T, std::size_t... Dims>
struct Array {
    static_assert(sizeof...(Dims) >= 1 && sizeof...(Dims) <= 4, "horus::Array takes 1 to 4 dimensions");
    static_assert(((Dims >= 1) && ...), "horus::Array dimensions must be at least 1");
    static constexpr std::size_t rank = sizeof...(Dims);
    static constexpr std::size_t size = (Dims * ...);
    static constexpr std::size_t dims[rank] = {Dims...};
    using value_type = T;
    T data[size] = {};

    T& operator[](std::size_t i) { return data[i]; }
    const T& operator[](std::size_t i) const { return data[i]; }
    /// Element (i, j) of a 2-d array.
    T& operator()(std::size_t i, std::size_t j)
        requires(rank == 2)
    {
        return data[i * dims[1] + j];
    }
    const T& operator()(std::size_t i, std::size_t j) const
        requires(rank == 2)
    {
        return data[i * dims[1] + j];
    }
    T* begin() { return data; }
    T* end() { return data + size; }
    const T* begin() const { return data; }
    const T* end() const { return data + size; }
    bool operator==(const Array&) const = default;
};

}  // namespace horus

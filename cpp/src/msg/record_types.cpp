// record_types.cpp — Float16 conversion and String<N> checks (see record_types.hpp).
#include "horus/msg/record_types.hpp"

#include <bit>
#include <cmath>

#include "horus/base/error.hpp"
#include "horus/msg/utf8.hpp"

namespace horus {

Float16 Float16::from_double(double v) {
    // Out of range = rounds to infinity: 65504 + half an ULP (65520) and beyond.
    if (std::isfinite(v) && std::fabs(v) >= 65520.0)
        throw InvalidArgument("value " + std::to_string(v) + " is out of range for float16 (-65504 to 65504)");
    // Through float (exact for every half), then round to nearest even.
    const uint32_t f = std::bit_cast<uint32_t>(static_cast<float>(v));
    const uint32_t sign = (f >> 16) & 0x8000u;
    const uint32_t exp = (f >> 23) & 0xFFu;
    uint32_t mant = f & 0x7FFFFFu;
    Float16 h;
    if (exp == 0xFF) {  // inf / nan (keep nan quiet)
        h.bits = static_cast<uint16_t>(sign | 0x7C00u | (mant ? 0x200u : 0u));
        return h;
    }
    const int e = static_cast<int>(exp) - 127 + 15;
    if (e >= 0x1F) {  // rounds beyond the largest half (only reachable from v just above 65504)
        h.bits = static_cast<uint16_t>(sign | 0x7BFFu);
        return h;
    }
    if (e <= 0) {  // subnormal half, or zero
        if (e < -10) {
            h.bits = static_cast<uint16_t>(sign);
            return h;
        }
        mant |= 0x800000u;
        const int shift = 14 - e;
        uint32_t half = mant >> shift;
        const uint32_t rest = mant & ((1u << shift) - 1);
        const uint32_t halfway = 1u << (shift - 1);
        if (rest > halfway || (rest == halfway && (half & 1))) ++half;
        h.bits = static_cast<uint16_t>(sign | half);
        return h;
    }
    uint32_t half = (static_cast<uint32_t>(e) << 10) | (mant >> 13);
    const uint32_t rest = mant & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1))) ++half;  // may carry into the exponent: still right
    if ((half & 0x7C00u) == 0x7C00u) half = 0x7BFFu;                // never round a finite value to inf
    h.bits = static_cast<uint16_t>(sign | half);
    return h;
}

double Float16::to_double() const {
    const uint32_t sign = (bits & 0x8000u) ? 1u : 0u;
    const uint32_t exp = (bits >> 10) & 0x1Fu;
    const uint32_t mant = bits & 0x3FFu;
    double v;
    if (exp == 0) v = std::ldexp(static_cast<double>(mant), -24);
    else if (exp == 0x1F) v = mant ? std::nan("") : INFINITY;
    else v = std::ldexp(static_cast<double>(mant | 0x400u), static_cast<int>(exp) - 25);
    return sign ? -v : v;
}

namespace detail {

void check_string_fits(std::string_view text, std::size_t capacity) {
    if (text.size() > capacity)
        throw InvalidArgument("text of " + std::to_string(text.size()) + " bytes does not fit a string of capacity " +
                              std::to_string(capacity) + " bytes");
    if (text.find('\0') != std::string_view::npos) throw InvalidArgument("text must not contain NUL characters");
    require_utf8(text, "text");
}

}  // namespace detail
}  // namespace horus

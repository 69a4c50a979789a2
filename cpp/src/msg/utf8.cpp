// utf8.cpp — UTF-8 validation (see utf8.hpp).
#include "horus/msg/utf8.hpp"

#include <cstring>
#include <string>

#include "horus/base/error.hpp"

namespace horus {

std::size_t first_invalid_utf8(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        const unsigned char c = p[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        unsigned char lo = 0x80, hi = 0xBF;  // valid range of the second byte
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;       // overlong
            else if (c == 0xED) hi = 0x9F;  // UTF-16 surrogates
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;       // overlong
            else if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
        } else {
            return i;
        }
        if (i + len > n || p[i + 1] < lo || p[i + 1] > hi) return i;
        for (std::size_t k = 2; k < len; ++k)
            if (p[i + k] < 0x80 || p[i + k] > 0xBF) return i;
        i += len;
    }
    return std::string_view::npos;
}

void require_utf8(std::string_view s, std::string_view what) {
    const std::size_t bad = first_invalid_utf8(s);
    if (bad == std::string_view::npos) return;
    static constexpr char kHex[] = "0123456789abcdef";
    std::string bytes;  // the ill-formed sequence (at most 4 bytes)
    for (std::size_t i = bad; i < s.size() && i < bad + 4; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        bytes += std::string(bytes.empty() ? "" : " ") + "0x" + kHex[c >> 4] + kHex[c & 15];
    }
    throw InvalidArgument(std::string(what) + " is not valid UTF-8: the bytes at offset " + std::to_string(bad) +
                          " (" + bytes +
                          ") are not a well-formed character (no lone surrogates, overlong "
                          "forms or code points above U+10FFFF)");
}

std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes) {
    if (s.size() <= max_bytes) return s;
    std::size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // s[cut]: first byte left out
    return s.substr(0, cut);
}

std::string readable_text(const char* p, std::size_t capacity) {
    std::string s(p, strnlen(p, capacity));
    std::size_t i = 0;
    while (i < s.size()) {
        const std::size_t bad = first_invalid_utf8(std::string_view(s).substr(i));
        const std::size_t end = bad == std::string_view::npos ? s.size() : i + bad;
        for (; i < end; ++i)
            if (static_cast<unsigned char>(s[i]) < 0x20 || s[i] == 0x7F) s[i] = '?';
        if (i < s.size()) s[i++] = '?';  // one ill-formed byte; validation resumes after it
    }
    return s;
}

}  // namespace horus

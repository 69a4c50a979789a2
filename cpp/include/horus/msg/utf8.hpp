// utf8.hpp — UTF-8 validation for the text fields of messages (frame_id, String<N>).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace horus {

/// Offset of the first byte of `s` that does not belong to well-formed UTF-8
/// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), or npos.
std::size_t first_invalid_utf8(std::string_view s);

/// Throws InvalidArgument naming `what`, the offset and the ill-formed bytes unless `s`
/// is well-formed UTF-8.
void require_utf8(std::string_view s, std::string_view what);

/// The longest prefix of `s` of at most `max_bytes` that does not split a character.
std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes);

/// The text at `p` (up to its NUL, at most `capacity` bytes) as written, when it is
/// well-formed UTF-8 without control characters; otherwise each byte that breaks that
/// becomes '?'. For names read from shared memory that a corrupt writer may have garbled.
std::string readable_text(const char* p, std::size_t capacity);

}  // namespace horus

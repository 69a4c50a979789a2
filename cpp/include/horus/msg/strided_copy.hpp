// strided_copy.hpp — copy an n-dimensional strided array into a C-contiguous buffer.
//
// Used when an input array (NumPy slice, transposed tensor) is not contiguous:
// horus payloads are always C-contiguous. Innermost contiguous runs are copied
// with one memcpy each.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace horus {

/// True if `byte_strides` describe a C-contiguous layout for `shape`.
bool is_c_contiguous(std::span<const uint64_t> shape, std::span<const int64_t> byte_strides,
                     std::size_t itemsize);

/// Copies the array at `src` (shape, strides in bytes, may be negative) into `dst` in C order.
void copy_strided(std::byte* dst, const std::byte* src, std::span<const uint64_t> shape,
                  std::span<const int64_t> byte_strides, std::size_t itemsize);

}  // namespace horus

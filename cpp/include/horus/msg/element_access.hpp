// element_access.hpp — reading and writing one element of a payload as a double.
//
// Used by pixel/depth/point accessors. Writes are range-checked: an integer
// element accepts only whole numbers inside its dtype's range; float elements
// accept any double (NaN and infinities included) that fits the type.
#pragma once

#include <cstddef>
#include <string>

#include "horus/msg/dtype.hpp"

namespace horus {

/// The element at `p` (of type `dtype`) as a double. float16 is not supported (TypeMismatch).
double load_element(DType dtype, const std::byte* p);

/// Stores `value` at `p`; `value` must already have passed check_element_value.
void store_element(DType dtype, std::byte* p, double value);

/// Throws InvalidArgument naming `what`, the value and the valid range when
/// `value` cannot be stored in `dtype` exactly (integers) or at all (floats).
void check_element_value(DType dtype, double value, const std::string& what);

}  // namespace horus

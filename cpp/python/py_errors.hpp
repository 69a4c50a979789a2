// py_errors.hpp — Python exception classes of horus and the C++ -> Python mapping.
#pragma once

#include <nanobind/nanobind.h>

namespace horus::py {

/// Creates horus.HorusError, PoolExhausted, ReadOnlyError, ShmError, StaleReference
/// on `m` and registers the translator for horus's C++ exceptions.
void bind_errors(nanobind::module_& m);

}  // namespace horus::py

// py_errors.hpp — Python exception classes of horus and the C++ -> Python mapping.
#pragma once

#include <nanobind/nanobind.h>

namespace horus::py {

/// Creates horus.HorusError, PoolExhausted, ReadOnlyError, ShmError, StaleReference
/// on `m` and registers the translator for horus's C++ exceptions.
void bind_errors(nanobind::module_& m);

/// Sets the Python error for the exception in flight (call from a catch (...) block in
/// code that nanobind does not wrap: raw CPython slots). horus errors map as in
/// bind_errors; nanobind::python_error is restored; anything else is a RuntimeError.
void set_python_error_from_current_exception() noexcept;

/// horus.ReadOnlyError (a type object; borrowed).
PyObject* read_only_error_type();

}  // namespace horus::py

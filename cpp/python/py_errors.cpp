// py_errors.cpp — exception mapping (see py_errors.hpp and horus/base/error.hpp).
#include "py_errors.hpp"

#include "horus/base/error.hpp"

namespace nb = nanobind;

namespace horus::py {
namespace {

PyObject* g_horus_error = nullptr;
PyObject* g_pool_exhausted = nullptr;
PyObject* g_read_only = nullptr;
PyObject* g_shm_error = nullptr;
PyObject* g_stale = nullptr;

PyObject* new_exception(nb::module_& m, const char* name, PyObject* bases, const char* doc) {
    std::string qualified = std::string("horus.") + name;
    PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases, nullptr);
    if (!type) throw nb::python_error();
    m.attr(name) = nb::handle(type);
    return type;
}

}  // namespace

void translate(const std::exception_ptr& p);

void bind_errors(nb::module_& m) {
    g_horus_error = new_exception(m, "HorusError", PyExc_Exception, "Base class of horus errors.");
    nb::object b1 = nb::make_tuple(nb::handle(g_horus_error), nb::handle(PyExc_MemoryError));
    g_pool_exhausted = new_exception(
        m, "PoolExhausted", b1.ptr(),
        "The shared-memory pool cannot fit an allocation under its cap (HORUS_POOL_MAX_BYTES).");
    nb::object b2 = nb::make_tuple(nb::handle(g_horus_error), nb::handle(PyExc_ValueError));
    g_read_only = new_exception(
        m, "ReadOnlyError", b2.ptr(),
        "A mutation of a shared message (sent or received); call copy() for a writable one.");
    nb::object b3 = nb::make_tuple(nb::handle(g_horus_error), nb::handle(PyExc_OSError));
    g_shm_error = new_exception(m, "ShmError", b3.ptr(),
                                "A shared-memory object is missing, corrupt or foreign.");
    g_stale = new_exception(m, "StaleReference", g_horus_error,
                            "A pool reference whose block was already freed.");

    nb::register_exception_translator([](const std::exception_ptr& p, void*) { translate(p); });
}

/// Sets the Python error for `p`; rethrows what is not a horus error (nanobind's next
/// translator takes it).
void translate(const std::exception_ptr& p) {
        try {
            std::rethrow_exception(p);
        } catch (const PoolExhausted& e) {
            PyErr_SetString(g_pool_exhausted, e.what());
        } catch (const ReadOnlyError& e) {
            PyErr_SetString(g_read_only, e.what());
        } catch (const ShmError& e) {
            PyErr_SetString(g_shm_error, e.what());
        } catch (const StaleReference& e) {
            PyErr_SetString(g_stale, e.what());
        } catch (const InvalidArgument& e) {
            PyErr_SetString(PyExc_ValueError, e.what());
        } catch (const OutOfRange& e) {
            PyErr_SetString(PyExc_IndexError, e.what());
        } catch (const TypeMismatch& e) {
            PyErr_SetString(PyExc_TypeError, e.what());
        } catch (const Error& e) {
            PyErr_SetString(g_horus_error, e.what());
        }
}

void set_python_error_from_current_exception() noexcept {
    try {
        throw;
    } catch (nb::python_error& e) {
        e.restore();
    } catch (const Error&) {
        translate(std::current_exception());
    } catch (const std::bad_alloc&) {
        PyErr_NoMemory();
    } catch (const std::exception& e) {
        PyErr_SetString(PyExc_RuntimeError, e.what());
    } catch (...) {
        PyErr_SetString(PyExc_RuntimeError, "unknown C++ exception");
    }
}

PyObject* read_only_error_type() { return g_read_only; }

}  // namespace horus::py

// py_args.cpp — see py_args.hpp.
#include "py_args.hpp"

#include <nanobind/stl/string.h>

#include <cmath>

#include "horus/base/error.hpp"
#include "horus/msg/utf8.hpp"

namespace nb = nanobind;

namespace horus::py {
namespace {

constexpr std::size_t kMaxReprChars = 48;

[[noreturn]] void not_an_int(nb::handle v, const char* name) {
    throw TypeMismatch(std::string(name) + " must be an int; got " + value_repr(v) + " (" + qualname_of(v) + ")");
}

std::string range_text(int64_t lo, int64_t hi) { return std::to_string(lo) + ".." + std::to_string(hi); }

}  // namespace

std::string qualname_of(nb::handle v) {
    return nb::cast<std::string>(nb::str(nb::handle((PyObject*)Py_TYPE(v.ptr())).attr("__qualname__")));
}

std::string value_repr(nb::handle v) {
    PyObject* r = PyObject_Repr(v.ptr());
    if (!r) {
        // repr() itself failed: an int beyond sys.get_int_max_str_digits(), say.
        PyErr_Clear();
        if (PyLong_Check(v.ptr())) {
            PyObject* bits = PyObject_CallMethod(v.ptr(), "bit_length", nullptr);
            if (bits) {
                const long long n = PyLong_AsLongLong(bits);
                Py_DECREF(bits);
                if (!PyErr_Occurred())
                    return std::string(PyObject_RichCompareBool(v.ptr(), nb::int_(0).ptr(), Py_LT) == 1 ? "-" : "") +
                           "<int of " + std::to_string(n) + " bits>";
            }
            PyErr_Clear();
        }
        return "<" + qualname_of(v) + " object>";
    }
    std::string s = nb::cast<std::string>(nb::steal<nb::str>(r));
    if (s.size() > kMaxReprChars && PyLong_Check(v.ptr())) {
        const std::size_t digits = s.size() - (s[0] == '-' ? 1 : 0);
        s = s.substr(0, 16) + "...(" + std::to_string(digits) + " digits)";
    } else if (s.size() > kMaxReprChars) {
        s = std::string(utf8_prefix(s, kMaxReprChars)) + "...";  // never half a character: messages stay UTF-8
    }
    return s;
}

bool read_int64(nb::handle value, const char* name, int64_t* out) {
    PyObject* o = value.ptr();
    nb::object index;
    if (!PyLong_CheckExact(o)) {
        // bool is an int subclass, but Image(height=True) is a bug, not a size.
        if (PyBool_Check(o) || !PyIndex_Check(o)) not_an_int(value, name);
        index = nb::steal(PyNumber_Index(o));
        if (!index.is_valid()) {
            PyErr_Clear();
            not_an_int(value, name);
        }
        o = index.ptr();
    }
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (v == -1 && PyErr_Occurred()) throw nb::python_error();
    if (overflow != 0) {
        *out = overflow < 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
        return false;
    }
    *out = v;
    return true;
}

int64_t size_arg(IntArg arg, const char* name, int64_t lo, int64_t hi, const char* note) {
    int64_t v = 0;
    if (!read_int64(arg.value, name, &v))
        throw InvalidArgument(std::string(name) + " = " + value_repr(arg.value) + " is out of range; expected " +
                              range_text(lo, hi) + note);
    return v;
}

uint64_t uint64_arg(IntArg arg, const char* name, const char* unit) {
    PyObject* o = arg.value.ptr();
    nb::object index;
    if (!PyLong_CheckExact(o)) {
        if (PyBool_Check(o) || !PyIndex_Check(o)) not_an_int(arg.value, name);
        index = nb::steal(PyNumber_Index(o));
        if (!index.is_valid()) {
            PyErr_Clear();
            not_an_int(arg.value, name);
        }
        o = index.ptr();
    }
    const unsigned long long v = PyLong_AsUnsignedLongLong(o);
    if (v == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
        PyErr_Clear();  // OverflowError: negative, or beyond 2^64-1
        throw InvalidArgument(std::string(name) + " = " + value_repr(arg.value) +
                              " is out of range; expected 0..2^64-1 " + unit);
    }
    return static_cast<uint64_t>(v);
}

Pixel pixel_args(IntArg x, IntArg y, uint32_t width, uint32_t height, const char* what) {
    Pixel p{};
    const bool x_fits = read_int64(x.value, "x", &p.x);
    const bool y_fits = read_int64(y.value, "y", &p.y);
    if (!x_fits || !y_fits)
        throw OutOfRange("pixel (" + value_repr(x.value) + ", " + value_repr(y.value) + ") is outside the " +
                         std::to_string(width) + "x" + std::to_string(height) + " " + what + "; valid x: 0.." +
                         std::to_string(int64_t{width} - 1) + ", y: 0.." + std::to_string(int64_t{height} - 1));
    return p;
}

Roi roi_args(IntArg x, IntArg y, IntArg w, IntArg h, uint32_t width, uint32_t height) {
    Roi r{};
    // all four are read (no short-circuit): the messages below use r.w and r.h
    const bool x_fits = read_int64(x.value, "x", &r.x);
    const bool y_fits = read_int64(y.value, "y", &r.y);
    const bool w_fits = read_int64(w.value, "w", &r.w);
    const bool h_fits = read_int64(h.value, "h", &r.h);
    if (x_fits && y_fits && w_fits && h_fits) return r;
    if (r.w < 1 || r.h < 1)
        throw InvalidArgument("roi size " + value_repr(w.value) + "x" + value_repr(h.value) +
                              " is empty; w and h must be >= 1");
    throw OutOfRange("roi x=" + value_repr(x.value) + " y=" + value_repr(y.value) + " w=" + value_repr(w.value) +
                     " h=" + value_repr(h.value) + " is outside the " + std::to_string(width) + "x" +
                     std::to_string(height) + " image (need 0 <= x, x + w <= " + std::to_string(width) +
                     ", 0 <= y, y + h <= " + std::to_string(height) + ")");
}

int64_t point_index_arg(IntArg index, uint64_t count) {
    int64_t i = 0;
    if (!read_int64(index.value, "index", &i))
        throw OutOfRange("point index " + value_repr(index.value) + " is out of range; the cloud has " +
                         std::to_string(count) + " points (valid: 0.." +
                         std::to_string(static_cast<int64_t>(count) - 1) + ")");
    return i;
}

double float_arg(FloatArg arg, const char* name, const char* valid) {
    PyObject* o = arg.value.ptr();
    if (PyFloat_CheckExact(o)) return PyFloat_AS_DOUBLE(o);
    if (PyBool_Check(o) || PyUnicode_Check(o) || PyBytes_Check(o) || !PyNumber_Check(o))
        throw TypeMismatch(std::string(name) + " must be a number; got " + value_repr(arg.value) + " (" +
                           qualname_of(arg.value) + ")");
    const double d = PyFloat_AsDouble(o);
    if (d == -1.0 && PyErr_Occurred()) {
        const bool overflow = PyErr_ExceptionMatches(PyExc_OverflowError);
        PyErr_Clear();
        if (overflow)
            throw InvalidArgument(std::string(name) + " = " + value_repr(arg.value) + " is out of range; " + valid);
        throw TypeMismatch(std::string(name) + " must be a number; got " + value_repr(arg.value) + " (" +
                           qualname_of(arg.value) + ")");
    }
    return d;
}

}  // namespace horus::py

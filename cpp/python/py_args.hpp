// py_args.hpp — int and float arguments whose errors name the value and the valid range.
//
// nanobind's int64_t/double casters refuse a float for an int, a bool-less
// number of the wrong kind, or an int beyond int64_t with "incompatible
// function arguments", which names neither the value nor what is allowed.
// Entry points take IntArg/FloatArg instead: their casters accept any object
// (the signatures and stubs still say `int`/`float`) and the functions below
// convert it. Values that fit are passed on as they are, so the C++ core's own
// range checks and messages stay the single source; only ints beyond int64_t
// are reported here, in the core's words (the message types' error tables).
#pragma once

#include <nanobind/nanobind.h>

#include <cstdint>
#include <limits>
#include <string>

namespace horus::py {

struct IntArg {
    nanobind::handle value;
};
struct FloatArg {
    nanobind::handle value;
};

/// type(value).__qualname__, e.g. "float".
std::string qualname_of(nanobind::handle value);

/// repr(value) for an error message: huge ints are shortened to their first
/// digits and their digit count; never raises.
std::string value_repr(nanobind::handle value);

/// Reads an int: a Python int or anything with __index__ (NumPy integers), but
/// not a bool. TypeError naming `name` and the value otherwise (a float, str,
/// None, ...). Returns false for an int beyond int64_t, *out then saturated
/// (INT64_MIN or INT64_MAX, so its sign tells which way it overflowed).
bool read_int64(nanobind::handle value, const char* name, int64_t* out);

/// An int that must fit int64_t; beyond it: ValueError
/// "<name> = <value> is out of range; expected <lo>..<hi><note>".
int64_t size_arg(IntArg arg, const char* name, int64_t lo, int64_t hi, const char* note = "");

/// An int for 0..2^64-1 (ValueError naming the value and that range otherwise);
/// `unit` follows the range in the message ("nanoseconds").
uint64_t uint64_arg(IntArg arg, const char* name, const char* unit);

/// Pixel coordinates of a `width` x `height` `what` ("image", "depth image"):
/// an int beyond int64_t is IndexError in the core's words
/// ("pixel (x, y) is outside the WxH image; valid x: 0..W-1, y: 0..H-1").
struct Pixel {
    int64_t x, y;
};
Pixel pixel_args(IntArg x, IntArg y, uint32_t width, uint32_t height, const char* what);

/// roi(x, y, w, h) of a `width` x `height` image: beyond int64_t, a negative
/// w or h is the core's "empty" ValueError, anything else its IndexError.
struct Roi {
    int64_t x, y, w, h;
};
Roi roi_args(IntArg x, IntArg y, IntArg w, IntArg h, uint32_t width, uint32_t height);

/// point_at(index) of a cloud of `count` points (IndexError beyond int64_t).
int64_t point_index_arg(IntArg index, uint64_t count);

/// A float (or int, or anything with __float__, but not a bool or str):
/// TypeError naming `name` and the value otherwise; an int beyond a double's
/// range is ValueError "<name> = <value> is out of range; <valid>".
double float_arg(FloatArg arg, const char* name, const char* valid);

}  // namespace horus::py

namespace nanobind::detail {

template <>
struct type_caster<horus::py::IntArg> {
    NB_TYPE_CASTER(horus::py::IntArg, const_name("int"))
    bool from_python(handle src, uint8_t, cleanup_list*) noexcept {
        value.value = src;  // borrowed: the caller holds its arguments for the call
        return true;
    }
    static handle from_cpp(const horus::py::IntArg& v, rv_policy, cleanup_list*) noexcept {
        return v.value.inc_ref();
    }
};

template <>
struct type_caster<horus::py::FloatArg> {
    NB_TYPE_CASTER(horus::py::FloatArg, const_name("float"))
    bool from_python(handle src, uint8_t, cleanup_list*) noexcept {
        value.value = src;
        return true;
    }
    static handle from_cpp(const horus::py::FloatArg& v, rv_policy, cleanup_list*) noexcept {
        return v.value.inc_ref();
    }
};

}  // namespace nanobind::detail

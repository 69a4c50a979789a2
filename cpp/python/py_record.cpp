// py_record.cpp — the C types behind @horus.message classes (see py_record.hpp):
// _RecordBase (storage, construction, comparison, buffer, metadata, copy) and
// _RecordField (one data descriptor per field: conversion and range checks).
//
// Array fields are NumPy views made by horus/_message.py from this object's buffer
// (np.frombuffer), so their checks and conversions are NumPy's, in one place.
#include "py_record.hpp"

#include <nanobind/stl/string.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <string>
#include <unordered_map>

#include "horus/base/error.hpp"
#include "horus/msg/bytes_descriptor.hpp"
#include "horus/msg/descriptor.hpp"
#include "horus/msg/message.hpp"
#include "horus/msg/record.hpp"
#include "horus/msg/record_types.hpp"
#include "horus/msg/standard_messages.hpp"
#include "py_args.hpp"
#include "py_errors.hpp"

namespace nb = nanobind;

namespace horus::py {
namespace {

constexpr std::size_t kInlineStorage = sizeof(RecordObject::storage);

PyTypeObject* g_record_base = nullptr;
PyTypeObject* g_field_type = nullptr;
std::unordered_map<PyTypeObject*, RecordTypeInfo*>* g_by_type = nullptr;
std::unordered_map<uint64_t, RecordTypeInfo*>* g_by_hash = nullptr;

/// horus._message helpers for array fields (imported on first use).
PyObject* g_array_get = nullptr;
PyObject* g_array_set = nullptr;
PyObject* g_np_bool = nullptr;

void load_helpers() {
    if (g_array_get) return;
    nb::module_ m = nb::module_::import_("horus._message");
    g_array_get = nb::getattr(m, "_array_get").release().ptr();
    g_array_set = nb::getattr(m, "_array_set").release().ptr();
    nb::module_ np = nb::module_::import_("numpy");
    g_np_bool = nb::getattr(np, "bool_").release().ptr();
}

bool is_np_bool(PyObject* v) {
    if (!g_np_bool) load_helpers();
    return Py_TYPE(v) == reinterpret_cast<PyTypeObject*>(g_np_bool);
}

std::string where(const RecordTypeInfo& info, const RecordField& f) { return info.layout->name() + "." + f.name; }

[[noreturn]] void bad_type(const RecordTypeInfo& info, const RecordField& f, PyObject* v, const char* expected) {
    throw TypeMismatch(where(info, f) + " = " + value_repr(v) + ": expected " + expected + "; got " + qualname_of(v));
}

[[noreturn]] void out_of_range(const RecordTypeInfo& info, const RecordField& f, PyObject* v, const std::string& range) {
    throw InvalidArgument(where(info, f) + " = " + value_repr(v) + " is out of range for " +
                          std::string(dtype_name(f.dtype)) + " (" + range + ")");
}

template <typename T>
void store(std::byte* dst, T v) {
    std::memcpy(dst, &v, sizeof v);
}
template <typename T>
T load(const std::byte* src) {
    T v;
    std::memcpy(&v, src, sizeof v);
    return v;
}

void write_int(const RecordTypeInfo& info, const RecordField& f, std::byte* dst, PyObject* v) {
    if (PyBool_Check(v) || is_np_bool(v) || !PyIndex_Check(v)) bad_type(info, f, v, "an int");
    nb::object i = nb::steal(PyNumber_Index(v));
    if (!i.is_valid()) throw nb::python_error();
    const bool is_unsigned = dtype_info(f.dtype).kind == DTypeKind::UInt;
    const std::size_t size = dtype_size(f.dtype);
    const std::string range = is_unsigned ? "0 to " + std::to_string(size == 8 ? UINT64_MAX : (uint64_t{1} << (8 * size)) - 1)
                                          : std::to_string(size == 8 ? INT64_MIN : -(int64_t{1} << (8 * size - 1))) +
                                                " to " +
                                                std::to_string(size == 8 ? INT64_MAX : (int64_t{1} << (8 * size - 1)) - 1);
    if (is_unsigned) {
        const unsigned long long u = PyLong_AsUnsignedLongLong(i.ptr());
        if (u == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
            PyErr_Clear();
            out_of_range(info, f, v, range);
        }
        if (size < 8 && u > (uint64_t{1} << (8 * size)) - 1) out_of_range(info, f, v, range);
        switch (size) {
            case 1: store<uint8_t>(dst, static_cast<uint8_t>(u)); break;
            case 2: store<uint16_t>(dst, static_cast<uint16_t>(u)); break;
            case 4: store<uint32_t>(dst, static_cast<uint32_t>(u)); break;
            default: store<uint64_t>(dst, u); break;
        }
        return;
    }
    int overflow = 0;
    const long long s = PyLong_AsLongLongAndOverflow(i.ptr(), &overflow);
    if (s == -1 && PyErr_Occurred()) throw nb::python_error();
    if (overflow != 0) out_of_range(info, f, v, range);
    if (size < 8) {
        const long long lo = -(1ll << (8 * size - 1)), hi = (1ll << (8 * size - 1)) - 1;
        if (s < lo || s > hi) out_of_range(info, f, v, range);
    }
    switch (size) {
        case 1: store<int8_t>(dst, static_cast<int8_t>(s)); break;
        case 2: store<int16_t>(dst, static_cast<int16_t>(s)); break;
        case 4: store<int32_t>(dst, static_cast<int32_t>(s)); break;
        default: store<int64_t>(dst, s); break;
    }
}

void write_float(const RecordTypeInfo& info, const RecordField& f, std::byte* dst, PyObject* v) {
    if (PyBool_Check(v) || is_np_bool(v) || PyUnicode_Check(v) || PyBytes_Check(v) ||
        !(PyFloat_Check(v) || PyLong_Check(v) || PyIndex_Check(v) ||
          (Py_TYPE(v)->tp_as_number && Py_TYPE(v)->tp_as_number->nb_float)))
        bad_type(info, f, v, "a number");
    const double d = PyFloat_AsDouble(v);
    if (d == -1.0 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError)) throw nb::python_error();
        PyErr_Clear();
        out_of_range(info, f, v, "an int too large for a float");
    }
    switch (f.dtype) {
        case DType::Float64: store<double>(dst, d); break;
        case DType::Float32: {
            // Out of range = a finite value that rounds to infinity (3.4028235e38 rounds to FLT_MAX: in range).
            const float x = static_cast<float>(d);
            if (std::isfinite(d) && std::isinf(x)) out_of_range(info, f, v, "-3.4028235e38 to 3.4028235e38");
            store<float>(dst, x);
            break;
        }
        default:
            if (std::isfinite(d) && std::fabs(d) >= 65520.0) out_of_range(info, f, v, "-65504 to 65504");
            store<uint16_t>(dst, Float16::from_double(d).bits);
            break;
    }
}

void write_bool(const RecordTypeInfo& info, const RecordField& f, std::byte* dst, PyObject* v) {
    if (PyBool_Check(v)) {
        store<uint8_t>(dst, v == Py_True ? 1 : 0);
    } else if (is_np_bool(v)) {
        const int t = PyObject_IsTrue(v);
        if (t < 0) throw nb::python_error();
        store<uint8_t>(dst, static_cast<uint8_t>(t));
    } else {
        bad_type(info, f, v, "a bool");
    }
}

void write_string(const RecordTypeInfo& info, const RecordField& f, std::byte* dst, PyObject* v) {
    if (!PyUnicode_Check(v)) bad_type(info, f, v, "a str");
    Py_ssize_t n = 0;
    const char* utf8 = PyUnicode_AsUTF8AndSize(v, &n);
    if (!utf8) {
        PyErr_Clear();
        throw InvalidArgument(where(info, f) + " = " + value_repr(v) + ": the text has no UTF-8 form (lone surrogates)");
    }
    if (static_cast<uint64_t>(n) > f.string_capacity)
        throw InvalidArgument(where(info, f) + " = " + value_repr(v) + ": the text is " + std::to_string(n) +
                              " bytes in UTF-8, longer than the capacity of " + std::to_string(f.string_capacity) +
                              " bytes");
    if (std::memchr(utf8, 0, static_cast<std::size_t>(n)))
        throw InvalidArgument(where(info, f) + " = " + value_repr(v) + ": the text must not contain NUL characters");
    std::memset(dst, 0, f.string_capacity);
    std::memcpy(dst, utf8, static_cast<std::size_t>(n));
}

nb::object read_string(const std::byte* src, uint64_t capacity) {
    const char* p = reinterpret_cast<const char*>(src);
    const std::size_t n = strnlen(p, capacity);
    PyObject* s = PyUnicode_DecodeUTF8(p, static_cast<Py_ssize_t>(n), "replace");
    if (!s) throw nb::python_error();
    return nb::steal(s);
}

nb::object read_scalar(const RecordField& f, const std::byte* src) {
    PyObject* o = nullptr;
    switch (f.dtype) {
        case DType::Bool: o = PyBool_FromLong(load<uint8_t>(src) != 0); break;
        case DType::Int8: o = PyLong_FromLong(load<int8_t>(src)); break;
        case DType::Int16: o = PyLong_FromLong(load<int16_t>(src)); break;
        case DType::Int32: o = PyLong_FromLong(load<int32_t>(src)); break;
        case DType::Int64: o = PyLong_FromLongLong(load<int64_t>(src)); break;
        case DType::UInt8: o = PyLong_FromUnsignedLong(load<uint8_t>(src)); break;
        case DType::UInt16: o = PyLong_FromUnsignedLong(load<uint16_t>(src)); break;
        case DType::UInt32: o = PyLong_FromUnsignedLong(load<uint32_t>(src)); break;
        case DType::UInt64: o = PyLong_FromUnsignedLongLong(load<uint64_t>(src)); break;
        case DType::Float16: o = PyFloat_FromDouble(Float16{load<uint16_t>(src)}.to_double()); break;
        case DType::Float32: o = PyFloat_FromDouble(load<float>(src)); break;
        case DType::Float64: o = PyFloat_FromDouble(load<double>(src)); break;
    }
    if (!o) throw nb::python_error();
    return nb::steal(o);
}

RecordObject* alloc_record(const RecordTypeInfo& info) {
    PyTypeObject* t = info.cls;
    auto* self = reinterpret_cast<RecordObject*>(t->tp_alloc(t, 0));
    if (!self) throw nb::python_error();
    self->info = &info;
    self->owner = nullptr;
    self->frame_id = nullptr;
    self->timestamp_ns = 0;
    self->readonly = false;
    self->heap = false;
    const uint64_t size = info.layout->size();
    if (size <= kInlineStorage) {
        self->data = self->storage;
        std::memset(self->storage, 0, kInlineStorage);
    } else {
        self->data = static_cast<std::byte*>(PyMem_Calloc(1, size));
        if (!self->data) {
            Py_DECREF(self);
            throw std::bad_alloc();
        }
        self->heap = true;
    }
    return self;
}

/// A record object viewing `data`, which `owner` (a parent record or a _Payload) keeps alive.
RecordObject* alloc_view(const RecordTypeInfo& info, const std::byte* data, PyObject* owner, bool readonly) {
    auto* view = reinterpret_cast<RecordObject*>(info.cls->tp_alloc(info.cls, 0));
    if (!view) throw nb::python_error();
    view->info = &info;
    view->data = const_cast<std::byte*>(data);
    view->owner = owner;
    Py_INCREF(owner);
    view->frame_id = nullptr;
    view->timestamp_ns = 0;
    view->readonly = readonly;
    view->heap = false;
    return view;
}

void require_writable(RecordObject* self, const char* what) {
    if (!self->readonly) return;
    PyErr_Format(read_only_error_type(),
                 "cannot %s a received %s: it is shared with the other receivers; call copy() for a writable one",
                 what, self->info->layout->name().c_str());
    throw nb::python_error();
}

void set_field(RecordObject* self, std::size_t index, PyObject* v) {
    const RecordTypeInfo& info = *self->info;
    const RecordField& f = info.layout->fields()[index];
    if (!v) throw TypeMismatch("cannot delete field " + where(info, f) + "; assign a value instead");
    if (self->readonly) {
        PyErr_Format(read_only_error_type(),
                     "cannot set %s: this %s was received and is shared with the other receivers; call copy() "
                     "for a writable one",
                     where(info, f).c_str(), info.layout->name().c_str());
        throw nb::python_error();
    }
    std::byte* dst = self->data + f.offset;
    if (!f.dims.empty()) {
        nb::object r = nb::steal(PyObject_CallFunction(g_array_set, "OnO", reinterpret_cast<PyObject*>(self),
                                                        static_cast<Py_ssize_t>(index), v));
        if (!r.is_valid()) throw nb::python_error();
        return;
    }
    switch (f.kind) {
        case FieldKind::Scalar:
            if (f.dtype == DType::Bool) write_bool(info, f, dst, v);
            else if (is_float(f.dtype)) write_float(info, f, dst, v);
            else write_int(info, f, dst, v);
            return;
        case FieldKind::String: write_string(info, f, dst, v); return;
        case FieldKind::Record: {
            RecordObject* src = as_record(v);
            nb::object converted;
            if (!src && PyDict_Check(v)) {
                converted = nb::steal(PyObject_CallMethod(reinterpret_cast<PyObject*>(info.field_classes[index]),
                                                          "from_dict", "O", v));
                if (!converted.is_valid()) throw nb::python_error();
                src = as_record(converted.ptr());
            }
            if (!src || src->info->layout->hash() != f.record->hash())
                bad_type(info, f, v, (f.record->name() + " (or a dict of its fields)").c_str());
            std::memmove(dst, src->data, f.record->size());
            return;
        }
    }
}

nb::object get_field(RecordObject* self, std::size_t index) {
    const RecordTypeInfo& info = *self->info;
    const RecordField& f = info.layout->fields()[index];
    const std::byte* src = self->data + f.offset;
    if (!f.dims.empty()) {
        PyObject* r = PyObject_CallFunction(g_array_get, "On", reinterpret_cast<PyObject*>(self),
                                            static_cast<Py_ssize_t>(index));
        if (!r) throw nb::python_error();
        return nb::steal(r);
    }
    switch (f.kind) {
        case FieldKind::Scalar: return read_scalar(f, src);
        case FieldKind::String: return read_string(src, f.string_capacity);
        case FieldKind::Record: {
            const RecordTypeInfo* nested = record_type_info(reinterpret_cast<PyTypeObject*>(info.field_classes[index]));
            if (!nested) throw Error("nested class of " + where(info, f) + " is not declared");
            return nb::steal(reinterpret_cast<PyObject*>(
                alloc_view(*nested, src, reinterpret_cast<PyObject*>(self), self->readonly)));
        }
    }
    return nb::none();
}

// ---- _RecordField: one data descriptor per field ------------------------------------------

struct FieldObject {
    PyObject_HEAD
    const RecordTypeInfo* info;
    uint32_t index;
};

PyObject* field_get(PyObject* self, PyObject* obj, PyObject*) {
    auto* fo = reinterpret_cast<FieldObject*>(self);
    if (!obj || obj == Py_None) {
        Py_INCREF(self);
        return self;
    }
    RecordObject* r = as_record(obj);
    if (!r || r->info != fo->info) {
        PyErr_Format(PyExc_TypeError, "field %s.%s read on a %s", fo->info->layout->name().c_str(),
                     fo->info->layout->fields()[fo->index].name.c_str(), Py_TYPE(obj)->tp_name);
        return nullptr;
    }
    try {
        return get_field(r, fo->index).release().ptr();
    } catch (...) {
        set_python_error_from_current_exception();
        return nullptr;
    }
}

int field_set(PyObject* self, PyObject* obj, PyObject* value) {
    auto* fo = reinterpret_cast<FieldObject*>(self);
    RecordObject* r = as_record(obj);
    if (!r || r->info != fo->info) {
        PyErr_Format(PyExc_TypeError, "field %s.%s set on a %s", fo->info->layout->name().c_str(),
                     fo->info->layout->fields()[fo->index].name.c_str(), Py_TYPE(obj)->tp_name);
        return -1;
    }
    try {
        set_field(r, fo->index, value);
        return 0;
    } catch (...) {
        set_python_error_from_current_exception();
        return -1;
    }
}

PyObject* field_repr(PyObject* self) {
    auto* fo = reinterpret_cast<FieldObject*>(self);
    const RecordField& f = fo->info->layout->fields()[fo->index];
    return PyUnicode_FromFormat("<field %s.%s: %s at offset %llu>", fo->info->layout->name().c_str(), f.name.c_str(),
                                f.type_text().c_str(), static_cast<unsigned long long>(f.offset));
}

void field_dealloc(PyObject* self) {
    PyTypeObject* t = Py_TYPE(self);
    t->tp_free(self);
    Py_DECREF(t);
}

PyType_Slot field_slots[] = {
    {Py_tp_descr_get, reinterpret_cast<void*>(field_get)},
    {Py_tp_descr_set, reinterpret_cast<void*>(field_set)},
    {Py_tp_repr, reinterpret_cast<void*>(field_repr)},
    {Py_tp_dealloc, reinterpret_cast<void*>(field_dealloc)},
    {Py_tp_doc, const_cast<char*>("A field of a typed message (reads and checked writes of its bytes).")},
    {0, nullptr},
};
PyType_Spec field_spec = {"horus._core._RecordField", sizeof(FieldObject), 0, Py_TPFLAGS_DEFAULT, field_slots};

// ---- _RecordBase --------------------------------------------------------------------------

PyObject* record_new(PyTypeObject* type, PyObject*, PyObject*) {
    const RecordTypeInfo* info = record_type_info(type);
    if (!info) {
        PyErr_Format(PyExc_TypeError,
                     "%s is not a declared message type; declare one with @horus.message (or subclass "
                     "horus.TypedMessage with annotated fields)",
                     type->tp_name);
        return nullptr;
    }
    try {
        return reinterpret_cast<PyObject*>(alloc_record(*info));
    } catch (...) {
        set_python_error_from_current_exception();
        return nullptr;
    }
}

void set_frame_id_checked(RecordObject* self, PyObject* v) {
    if (!PyUnicode_Check(v))
        throw TypeMismatch("frame_id must be a str; got " + value_repr(v) + " (" + qualname_of(v) + ")");
    Py_ssize_t n = 0;
    const char* utf8 = PyUnicode_AsUTF8AndSize(v, &n);
    if (!utf8) {
        PyErr_Clear();
        throw InvalidArgument("frame_id " + value_repr(v) + " is not valid UTF-8 (lone surrogates)");
    }
    char buf[kFrameIdCapacity];
    write_frame_id(buf, std::string_view(utf8, static_cast<std::size_t>(n)));  // length, NUL, UTF-8 checks
    Py_INCREF(v);
    Py_XSETREF(self->frame_id, v);
}

uint64_t timestamp_arg(PyObject* v) {
    if (PyBool_Check(v) || !PyIndex_Check(v))
        throw TypeMismatch("timestamp_ns must be an int; got " + value_repr(v) + " (" + qualname_of(v) + ")");
    nb::object i = nb::steal(PyNumber_Index(v));
    if (!i.is_valid()) throw nb::python_error();
    const unsigned long long u = PyLong_AsUnsignedLongLong(i.ptr());
    if (u == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
        PyErr_Clear();
        throw InvalidArgument("timestamp_ns = " + value_repr(v) + " is out of range (0 to 2**64-1 nanoseconds)");
    }
    return u;
}

int record_init(PyObject* obj, PyObject* args, PyObject* kwargs) {
    auto* self = reinterpret_cast<RecordObject*>(obj);
    const RecordTypeInfo& info = *self->info;
    try {
        const std::size_t nfields = info.field_names.size();
        const Py_ssize_t nargs = PyTuple_GET_SIZE(args);
        if (static_cast<std::size_t>(nargs) > nfields)
            throw TypeMismatch(info.layout->name() + "() takes at most " + std::to_string(nfields) +
                               " positional arguments (its fields in order); " + std::to_string(nargs) + " were given");
        for (Py_ssize_t i = 0; i < nargs; ++i) set_field(self, static_cast<std::size_t>(i), PyTuple_GET_ITEM(args, i));
        if (kwargs) {
            PyObject *key, *value;
            Py_ssize_t pos = 0;
            while (PyDict_Next(kwargs, &pos, &key, &value)) {
                std::size_t idx = nfields;
                for (std::size_t k = 0; k < nfields; ++k)
                    if (info.field_names[k] == key) {
                        idx = k;
                        break;
                    }
                if (idx == nfields)
                    for (std::size_t k = 0; k < nfields; ++k)
                        if (PyUnicode_Compare(info.field_names[k], key) == 0) {
                            idx = k;
                            break;
                        }
                if (idx < nfields) {
                    if (static_cast<Py_ssize_t>(idx) < nargs)
                        throw TypeMismatch(info.layout->name() + "() got field '" + info.layout->fields()[idx].name +
                                           "' both by position and by name");
                    set_field(self, idx, value);
                    continue;
                }
                if (PyUnicode_Check(key) && PyUnicode_CompareWithASCIIString(key, "timestamp_ns") == 0) {
                    self->timestamp_ns = timestamp_arg(value);
                    continue;
                }
                if (PyUnicode_Check(key) && PyUnicode_CompareWithASCIIString(key, "frame_id") == 0) {
                    set_frame_id_checked(self, value);
                    continue;
                }
                std::string names;
                for (const RecordField& f : info.layout->fields()) names += (names.empty() ? "" : ", ") + f.name;
                throw TypeMismatch(info.layout->name() + "() got an unknown field " + value_repr(key) +
                                   "; its fields are " + names + " (and timestamp_ns=, frame_id=)");
            }
        }
        return 0;
    } catch (...) {
        set_python_error_from_current_exception();
        return -1;
    }
}

void record_dealloc(PyObject* obj) {
    auto* self = reinterpret_cast<RecordObject*>(obj);
    if (self->heap) PyMem_Free(self->data);
    Py_CLEAR(self->owner);
    Py_CLEAR(self->frame_id);
    PyTypeObject* t = Py_TYPE(obj);
    t->tp_free(obj);
    Py_DECREF(t);
}

int record_setattro(PyObject* obj, PyObject* name, PyObject* value) {
    // Only the fields (data descriptors) can be set: a typo never creates a new attribute,
    // and __class__ stays (another class would read these bytes with another layout).
    if (PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, "__class__") == 0) {
        PyErr_SetString(PyExc_TypeError, "the class of a typed message cannot be changed");
        return -1;
    }
    PyObject* attr = PyUnicode_Check(name) ? _PyType_Lookup(Py_TYPE(obj), name) : nullptr;
    if (attr && Py_TYPE(attr)->tp_descr_set) return Py_TYPE(attr)->tp_descr_set(attr, obj, value);
    auto* self = reinterpret_cast<RecordObject*>(obj);
    std::string names;
    for (const RecordField& f : self->info->layout->fields()) names += (names.empty() ? "" : ", ") + f.name;
    PyErr_Format(PyExc_AttributeError, "%s has no field %R; its fields are %s (metadata: set_timestamp_ns(), set_frame_id())",
                 self->info->layout->name().c_str(), name, names.c_str());
    return -1;
}

PyObject* record_richcompare(PyObject* a, PyObject* b, int op) {
    RecordObject* x = as_record(a);
    RecordObject* y = as_record(b);
    if (!x || !y || (op != Py_EQ && op != Py_NE)) Py_RETURN_NOTIMPLEMENTED;
    const bool eq = x->info->layout->hash() == y->info->layout->hash() &&
                    std::memcmp(x->data, y->data, x->info->layout->size()) == 0;
    return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

int record_getbuffer(PyObject* obj, Py_buffer* view, int flags) {
    auto* self = reinterpret_cast<RecordObject*>(obj);
    return PyBuffer_FillInfo(view, obj, self->data, static_cast<Py_ssize_t>(self->info->layout->size()),
                             self->readonly ? 1 : 0, flags);
}

PyObject* record_copy(PyObject* obj, PyObject*) {
    auto* self = reinterpret_cast<RecordObject*>(obj);
    try {
        RecordObject* c = alloc_record(*self->info);
        std::memcpy(c->data, self->data, self->info->layout->size());
        c->timestamp_ns = self->timestamp_ns;
        Py_XINCREF(self->frame_id);
        c->frame_id = self->frame_id;
        return reinterpret_cast<PyObject*>(c);
    } catch (...) {
        set_python_error_from_current_exception();
        return nullptr;
    }
}

PyObject* record_deepcopy(PyObject* obj, PyObject*) { return record_copy(obj, nullptr); }

PyObject* record_set_timestamp(PyObject* obj, PyObject* v) {
    auto* self = reinterpret_cast<RecordObject*>(obj);
    try {
        require_writable(self, "set_timestamp_ns() on");
        self->timestamp_ns = timestamp_arg(v);
        Py_RETURN_NONE;
    } catch (...) {
        set_python_error_from_current_exception();
        return nullptr;
    }
}

PyObject* record_set_frame_id(PyObject* obj, PyObject* v) {
    auto* self = reinterpret_cast<RecordObject*>(obj);
    try {
        require_writable(self, "set_frame_id() on");
        set_frame_id_checked(self, v);
        Py_RETURN_NONE;
    } catch (...) {
        set_python_error_from_current_exception();
        return nullptr;
    }
}

PyObject* record_is_shared(PyObject* obj, PyObject*) {
    return PyBool_FromLong(reinterpret_cast<RecordObject*>(obj)->readonly);
}

PyObject* get_timestamp(PyObject* obj, void*) {
    return PyLong_FromUnsignedLongLong(reinterpret_cast<RecordObject*>(obj)->timestamp_ns);
}

PyObject* get_frame_id(PyObject* obj, void*) {
    PyObject* f = reinterpret_cast<RecordObject*>(obj)->frame_id;
    if (!f) return PyUnicode_FromStringAndSize("", 0);
    Py_INCREF(f);
    return f;
}

PyMethodDef record_methods[] = {
    {"copy", record_copy, METH_NOARGS, "A writable copy (own bytes; timestamp_ns and frame_id kept)."},
    {"__copy__", record_copy, METH_NOARGS, nullptr},
    {"__deepcopy__", record_deepcopy, METH_O, nullptr},
    {"set_timestamp_ns", record_set_timestamp, METH_O, "Sets timestamp_ns (an int of nanoseconds, 0 to 2**64-1)."},
    {"set_frame_id", record_set_frame_id, METH_O, "Sets frame_id (UTF-8 text of at most 63 bytes, no NUL)."},
    {"is_shared", record_is_shared, METH_NOARGS,
     "True for a received message (read-only: assignments raise ReadOnlyError)."},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef record_getset[] = {
    {"timestamp_ns", get_timestamp, nullptr, "Timestamp in nanoseconds (set_timestamp_ns to change).", nullptr},
    {"frame_id", get_frame_id, nullptr, "Frame identifier (set_frame_id to change).", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot record_slots[] = {
    {Py_tp_new, reinterpret_cast<void*>(record_new)},
    {Py_tp_init, reinterpret_cast<void*>(record_init)},
    {Py_tp_dealloc, reinterpret_cast<void*>(record_dealloc)},
    {Py_tp_setattro, reinterpret_cast<void*>(record_setattro)},
    {Py_tp_richcompare, reinterpret_cast<void*>(record_richcompare)},
    {Py_tp_hash, reinterpret_cast<void*>(PyObject_HashNotImplemented)},
    {Py_tp_methods, record_methods},
    {Py_tp_getset, record_getset},
    {Py_bf_getbuffer, reinterpret_cast<void*>(record_getbuffer)},
    {Py_tp_doc, const_cast<char*>("C base of typed messages (see horus.message).")},
    {0, nullptr},
};
PyType_Spec record_spec = {"horus._core._RecordBase", sizeof(RecordObject), 0,
                           Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, record_slots};

// ---- declaring a class --------------------------------------------------------------------

FieldKind parse_kind(const std::string& k) {
    if (k == "scalar") return FieldKind::Scalar;
    if (k == "string") return FieldKind::String;
    if (k == "record") return FieldKind::Record;
    throw InvalidArgument("unknown field kind '" + k + "'");
}

/// _declare_record(cls, name, fields, size): fields = [(name, kind, arg, dims, offset)],
/// arg = dtype name (scalar), capacity (string) or the nested class (record).
nb::tuple declare_record(nb::handle cls, const std::string& name, nb::list fields, uint64_t size) {
    if (!PyType_Check(cls.ptr()) || !PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(cls.ptr()), g_record_base))
        throw TypeMismatch("_declare_record needs a subclass of _RecordBase");
    auto* type = reinterpret_cast<PyTypeObject*>(cls.ptr());
    if (record_type_info(type)) throw TypeMismatch(name + " is already declared");
    std::vector<FieldSpec> specs;
    std::vector<PyObject*> classes;
    for (nb::handle item : fields) {
        nb::tuple t = nb::borrow<nb::tuple>(item);
        FieldSpec s;
        s.name = nb::cast<std::string>(t[0]);
        s.kind = parse_kind(nb::cast<std::string>(t[1]));
        PyObject* nested = nullptr;
        switch (s.kind) {
            case FieldKind::Scalar: s.dtype = parse_dtype(nb::cast<std::string>(t[2])); break;
            case FieldKind::String: s.string_capacity = nb::cast<uint64_t>(t[2]); break;
            case FieldKind::Record: {
                const RecordTypeInfo* n = PyType_Check(t[2].ptr())
                                              ? record_type_info(reinterpret_cast<PyTypeObject*>(t[2].ptr()))
                                              : nullptr;
                if (!n) throw TypeMismatch("field '" + s.name + "' of " + name + ": nested type is not a declared message");
                s.record = n->layout;
                nested = t[2].ptr();
                break;
            }
        }
        for (nb::handle d : nb::borrow<nb::tuple>(t[3])) s.dims.push_back(nb::cast<uint64_t>(d));
        s.offset = nb::cast<uint64_t>(t[4]);
        specs.push_back(std::move(s));
        classes.push_back(nested);
    }
    std::shared_ptr<const RecordLayout> layout = RecordLayout::make(name, std::move(specs), size);
    register_record_layout(layout);
    auto* info = new RecordTypeInfo();  // lives as long as the process, like the class
    info->layout = layout;
    info->cls = type;
    Py_INCREF(type);
    for (std::size_t i = 0; i < layout->fields().size(); ++i) {
        PyObject* n = PyUnicode_InternFromString(layout->fields()[i].name.c_str());
        info->field_names.push_back(n);
        Py_XINCREF(classes[i]);
        info->field_classes.push_back(classes[i]);
    }
    for (std::size_t i = 0; i < layout->fields().size(); ++i) {
        auto* fo = reinterpret_cast<FieldObject*>(g_field_type->tp_alloc(g_field_type, 0));
        if (!fo) throw nb::python_error();
        fo->info = info;
        fo->index = static_cast<uint32_t>(i);
        nb::object desc = nb::steal(reinterpret_cast<PyObject*>(fo));
        // type.__setattr__ keeps the class's slots and caches in step.
        if (PyType_Type.tp_setattro(cls.ptr(), info->field_names[i], desc.ptr()) < 0) throw nb::python_error();
    }
    (*g_by_type)[type] = info;
    g_by_hash->emplace(layout->hash(), info);
    load_helpers();
    return nb::make_tuple(layout->hash(), layout->text(), layout->size(), layout->alignment());
}

/// The standard messages' declarations, for horus.msg: [(name, [(field, kind, arg, dims, offset)], size)],
/// with a nested message named by its name (declared earlier in the list).
nb::list standard_layouts() {
    nb::list out;
    for (const auto& l : msg::standard_message_layouts()) {
        nb::list fields;
        for (const RecordField& f : l->fields()) {
            nb::object arg;
            switch (f.kind) {
                case FieldKind::Scalar: arg = nb::str(std::string(dtype_name(f.dtype)).c_str()); break;
                case FieldKind::String: arg = nb::int_(f.string_capacity); break;
                case FieldKind::Record: arg = nb::str(f.record->name().c_str()); break;
            }
            nb::list dims;
            for (uint64_t d : f.dims) dims.append(d);
            const char* kind = f.kind == FieldKind::Scalar ? "scalar" : f.kind == FieldKind::String ? "string" : "record";
            fields.append(nb::make_tuple(f.name, kind, arg, nb::tuple(dims), f.offset));
        }
        out.append(nb::make_tuple(l->name(), fields, l->size(), l->hash()));
    }
    return out;
}

}  // namespace

const RecordTypeInfo* record_type_info(PyTypeObject* t) {
    auto it = g_by_type->find(t);
    return it == g_by_type->end() ? nullptr : it->second;
}

const RecordTypeInfo* record_type_for_hash(uint64_t hash) {
    auto it = g_by_hash->find(hash);
    return it == g_by_hash->end() ? nullptr : it->second;
}

RecordObject* as_record(PyObject* o) {
    return o && PyObject_TypeCheck(o, g_record_base) && reinterpret_cast<RecordObject*>(o)->info
               ? reinterpret_cast<RecordObject*>(o)
               : nullptr;
}

nb::object make_received_record(const RecordTypeInfo& info, const std::byte* data, PyObject* owner,
                                uint64_t timestamp_ns, const char* frame_id) {
    RecordObject* r = nullptr;
    if (owner) {
        r = alloc_view(info, data, owner, true);
    } else {
        r = alloc_record(info);
        std::memcpy(r->data, data, info.layout->size());
    }
    nb::object obj = nb::steal(reinterpret_cast<PyObject*>(r));
    r->timestamp_ns = timestamp_ns;
    r->readonly = true;
    if (frame_id && frame_id[0]) {
        PyObject* s = PyUnicode_DecodeUTF8(frame_id, static_cast<Py_ssize_t>(strnlen(frame_id, kFrameIdCapacity)),
                                           "replace");
        if (!s) throw nb::python_error();
        r->frame_id = s;
    }
    return obj;
}

void bind_record(nb::module_& m) {
    g_by_type = new std::unordered_map<PyTypeObject*, RecordTypeInfo*>();
    g_by_hash = new std::unordered_map<uint64_t, RecordTypeInfo*>();
    g_record_base = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&record_spec));
    if (!g_record_base) throw nb::python_error();
    g_field_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&field_spec));
    if (!g_field_type) throw nb::python_error();
    m.attr("_RecordBase") = nb::handle(reinterpret_cast<PyObject*>(g_record_base));
    m.attr("_RecordField") = nb::handle(reinterpret_cast<PyObject*>(g_field_type));
    m.attr("INLINE_PAYLOAD_BYTES") = kInlinePayloadBytes;
    m.def("_declare_record", &declare_record, nb::arg("cls"), nb::arg("name"), nb::arg("fields"), nb::arg("size"),
          "Makes `cls` a record type (used by horus.message): returns (layout_hash, layout_text, size, alignment).");
    m.def("_standard_layouts", &standard_layouts, "The standard messages' declarations (for horus.msg).");
    m.def(
        "_record_field_info",
        [](nb::handle cls, std::size_t index) {
            const RecordTypeInfo* info =
                PyType_Check(cls.ptr()) ? record_type_info(reinterpret_cast<PyTypeObject*>(cls.ptr())) : nullptr;
            if (!info || index >= info->layout->fields().size()) throw InvalidArgument("no such field");
            const RecordField& f = info->layout->fields()[index];
            nb::list dims;
            for (uint64_t d : f.dims) dims.append(d);
            return nb::make_tuple(f.name, f.offset, nb::tuple(dims), f.count, f.element_size);
        },
        "(name, offset, dims, count, element size) of a field of a record class.");
}

}  // namespace horus::py

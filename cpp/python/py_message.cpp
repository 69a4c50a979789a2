// py_message.cpp — shared helpers of the message bindings (see py_message.hpp).
#include "py_message.hpp"
#include "py_views.hpp"

#include <sstream>

namespace horus::py {

std::vector<double> numbers(nb::handle values, const char* what) {
    std::vector<double> out;
    auto convert = [&](nb::handle v) {
        if (PyUnicode_Check(v.ptr()) || PyBytes_Check(v.ptr()) || !PyNumber_Check(v.ptr()))
            throw TypeMismatch(std::string(what) + " values must be numbers; got " +
                               nb::cast<std::string>(nb::repr(v)));
        double d = PyFloat_AsDouble(v.ptr());
        if (d == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            throw InvalidArgument(std::string(what) + " value " + nb::cast<std::string>(nb::repr(v)) +
                                  " is out of range");
        }
        out.push_back(d);
    };
    if (PyNumber_Check(values.ptr()) && !PySequence_Check(values.ptr())) {
        convert(values);
        return out;
    }
    if (PyUnicode_Check(values.ptr()) || !PySequence_Check(values.ptr()))
        throw TypeMismatch(std::string(what) + " expects a number or a sequence of numbers; got " +
                           nb::cast<std::string>(nb::repr(values)));
    for (nb::handle v : nb::borrow<nb::object>(values)) convert(v);
    return out;
}

nb::list values_list(const std::vector<double>& values, DType dtype) {
    nb::list out;
    for (double v : values) {
        if (is_float(dtype))
            out.append(nb::float_(v));
        else
            out.append(nb::int_(static_cast<int64_t>(v)));
    }
    return out;
}

BufferView::BufferView(nb::handle obj, const char* what) {
    if (PyObject_GetBuffer(obj.ptr(), &view_, PyBUF_C_CONTIGUOUS) != 0) {
        PyErr_Clear();
        throw TypeMismatch(std::string(what) + " expects a C-contiguous bytes-like object "
                           "(bytes, bytearray, memoryview, NumPy array); got " +
                           nb::cast<std::string>(nb::str(nb::handle((PyObject*)Py_TYPE(obj.ptr())).attr("__qualname__"))));
    }
}

BufferView::~BufferView() { PyBuffer_Release(&view_); }

nb::object records_view(nb::object arr, const Message& msg) {
    static PyObject* helper = nullptr;
    if (!helper) helper = nb::getattr(nb::module_::import_("horus._message"), "_records_view").release().ptr();
    nb::object view = nb::borrow(helper)(arr, msg.record_hash());
    // NumPy copies flags at derivation: the structured view must be sealed on its own.
    if (!msg.is_shared() && !view.is(arr)) track_writable_view(msg.block(), view);
    return view;
}

nb::object framework_view(nb::handle self, const Message& msg, Framework framework) {
    const char* module = framework == Framework::Torch ? "torch" : framework == Framework::Jax ? "jax" : nullptr;
    // Checked once per framework (under the GIL): a module stays importable once imported,
    // and the check is ~50 ns of every to_torch()/to_jax() call otherwise.
    static bool torch_imported = false, jax_imported = false;
    bool& imported = framework == Framework::Torch ? torch_imported : jax_imported;
    if (module && !imported) {
        try {
            nb::module_::import_(module);
            imported = true;
        } catch (nb::python_error& e) {
            std::string hint = framework == Framework::Torch ? "pip install torch==2.13.0" : "pip install jax jaxlib";
            throw nb::import_error((std::string(framework == Framework::Torch ? "to_torch" : "to_jax") +
                                    "() needs " + module + ", which is not installed (" + hint + ")")
                                       .c_str());
        }
    }
    // JAX without x64 (its default) silently converts 64-bit arrays to 32 bits,
    // i.e. copies and loses precision: to_jax() would then be neither zero-copy
    // nor lossless. Say so instead of returning a different array.
    if (framework == Framework::Jax && dtype_size(msg.dtype()) == 8 &&
        !nb::cast<bool>(nb::module_::import_("jax").attr("config").attr("jax_enable_x64")))
        throw TypeMismatch("to_jax(): this message is " + std::string(dtype_name(msg.dtype())) +
                           " but JAX runs without 64-bit types (jax_enable_x64 is off), so it would "
                           "copy and convert it to 32 bits; enable them with "
                           "jax.config.update('jax_enable_x64', True) or JAX_ENABLE_X64=1, "
                           "or use jax.numpy.asarray(msg.to_numpy()) for a converted copy");
    return export_view(self, msg, framework);
}

namespace {

/// (a, b) from a tuple of two ints (NumPy integers and IntEnums too, not bools).
bool int_pair(nb::handle v, long long* a, long long* b) {
    if (!PyTuple_Check(v.ptr()) || PyTuple_GET_SIZE(v.ptr()) != 2) return false;
    long long out[2];
    for (Py_ssize_t i = 0; i < 2; ++i) {
        PyObject* item = PyTuple_GET_ITEM(v.ptr(), i);
        if (PyBool_Check(item) || !PyIndex_Check(item)) return false;
        int overflow = 0;
        nb::object index = nb::steal(PyNumber_Index(item));
        if (!index.is_valid()) {
            PyErr_Clear();
            return false;
        }
        out[i] = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
        if (overflow) return false;
    }
    *a = out[0];
    *b = out[1];
    return true;
}

}  // namespace

nb::object dlpack(nb::handle self, const Message& msg, nb::kwargs kwargs, const CopyMaker& make_copy) {
    // Every keyword is checked here (array API standard, v2023.12) so that a bad
    // value is an error naming it: nanobind's array would cast copy= with
    // nb::cast<bool> (std::bad_cast for copy="yes") and ignore stream=.
    bool want_copy = false;
    nb::object max_version = nb::none();
    for (auto [k, v] : kwargs) {
        const std::string key = nb::cast<std::string>(nb::str(k));
        if (key == "copy") {
            if (!v.is_none() && !v.is(Py_True) && !v.is(Py_False))
                throw TypeMismatch("__dlpack__(): copy must be None, True or False; got " + value_repr(v) + " (" +
                                   qualname_of(v) + ")");
            want_copy = v.is(Py_True);
        } else if (key == "stream") {
            if (v.is_none()) continue;
            if (PyBool_Check(v.ptr()) || !PyLong_Check(v.ptr()))
                throw TypeMismatch("__dlpack__(): stream must be None (or an int on devices with streams); got " +
                                   value_repr(v) + " (" + qualname_of(v) + ")");
            PyErr_SetString(PyExc_BufferError,
                            ("__dlpack__(): stream=" + value_repr(v) +
                             " cannot be used: horus payloads live in CPU memory, which has no streams; "
                             "the array API allows only stream=None there").c_str());
            throw nb::python_error();
        } else if (key == "max_version") {
            long long major = 0, minor = 0;
            if (!v.is_none() && !int_pair(v, &major, &minor))
                throw TypeMismatch("__dlpack__(): max_version must be None or a (major, minor) tuple of ints; got " +
                                   value_repr(v));
            max_version = nb::borrow(v);
        } else if (key == "dl_device") {
            if (v.is_none()) continue;
            long long type = 0, id = 0;
            if (!int_pair(v, &type, &id))
                throw TypeMismatch("__dlpack__(): dl_device must be None or a (device_type, device_id) tuple of "
                                   "ints, as __dlpack_device__() returns; got " + value_repr(v));
            if (type != 1 || id != 0) {
                PyErr_SetString(PyExc_BufferError,
                                ("__dlpack__(): dl_device=(" + std::to_string(type) + ", " + std::to_string(id) +
                                 ") is not available: horus payloads live in CPU memory, dl_device (1, 0) "
                                 "(kDLCPU, device 0)").c_str());
                throw nb::python_error();
            }
        } else {
            throw TypeMismatch("__dlpack__() got an unexpected keyword argument '" + key +
                               "'; it takes stream, max_version, dl_device, copy");
        }
    }
    nb::object view;
    if (want_copy) {
        // A private copy in a new block: the capsule then owns that copy.
        auto [copy_of_self, copy_msg] = make_copy();
        view = export_view(copy_of_self, *copy_msg, Framework::ArrayApi);
    } else {
        view = export_view(self, msg, Framework::ArrayApi);
    }
    if (max_version.is_none()) return view.attr("__dlpack__")();
    return view.attr("__dlpack__")(nb::arg("max_version") = max_version);
}

nb::str frame_id_text(const Message& msg) {
    const std::string_view id = msg.frame_id();
    PyObject* s = PyUnicode_DecodeUTF8(id.data(), static_cast<Py_ssize_t>(id.size()), "replace");
    if (!s) throw nb::python_error();
    return nb::steal<nb::str>(s);
}

void set_frame_id_text(Message& msg, nb::handle id) {
    PyObject* utf8 = PyUnicode_AsEncodedString(id.ptr(), "utf-8", "surrogatepass");
    if (!utf8) throw nb::python_error();
    nb::bytes b = nb::steal<nb::bytes>(utf8);
    msg.set_frame_id(std::string_view(b.c_str(), b.size()));
}

std::string repr_metadata(const Message& msg) {
    std::ostringstream os;
    os << "frame_id='" << frame_id_text(msg).c_str() << "', timestamp_ns=" << msg.timestamp_ns();
    if (msg.is_shared()) os << ", shared";
    return os.str();
}

}  // namespace horus::py

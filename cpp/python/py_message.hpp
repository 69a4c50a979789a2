// py_message.hpp — the Python methods every message type shares.
//
// bind_message_common<T>(cls) adds metadata (frame_id, timestamp_ns), sizes,
// framework views (to_numpy/to_torch/to_jax, __array_interface__, __dlpack__,
// __dlpack_device__), copy(), is_cpu(), is_shared and data_ptr() to a class.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cmath>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "horus/base/error.hpp"
#include "py_args.hpp"
#include "py_arrays.hpp"

namespace horus::py {

namespace nb = nanobind;

/// Converts a number or a sequence of numbers to doubles (TypeError otherwise).
std::vector<double> numbers(nb::handle values, const char* what);

/// A list of Python ints (integer dtypes) or floats (float dtypes).
nb::list values_list(const std::vector<double>& values, DType dtype);

/// Bytes of any buffer-protocol object (bytes, bytearray, memoryview, NumPy).
class BufferView {
  public:
    BufferView(nb::handle obj, const char* what);
    ~BufferView();
    BufferView(const BufferView&) = delete;
    BufferView& operator=(const BufferView&) = delete;
    std::span<const std::byte> bytes() const {
        return {static_cast<const std::byte*>(view_.buf), static_cast<std::size_t>(view_.len)};
    }

  private:
    Py_buffer view_{};
};

/// The framework views of a message; `import_name` is the module a framework needs.
/// A Tensor of records' uint8 view `arr` (..., record size) as a structured array of
/// the record class of `msg` (zero-copy; sealed with the block like `arr`); `arr` itself
/// if no class is declared.
nb::object records_view(nb::object arr, const Message& msg);

nb::object framework_view(nb::handle self, const Message& msg, Framework framework);

/// A private copy of a message as a Python object plus the C++ message inside it.
/// (Message itself is not a bound class, so nb::cast<const Message&> on the
/// Python object would throw std::bad_cast; the typed caller supplies both.)
using CopyMaker = std::function<std::pair<nb::object, const Message*>()>;

/// __dlpack__(*, stream=None, max_version=None, dl_device=None, copy=None).
nb::object dlpack(nb::handle self, const Message& msg, nb::kwargs kwargs, const CopyMaker& make_copy);

std::string repr_metadata(const Message& msg);

/// frame_id as Python text. A received frame_id may hold bytes that are not
/// UTF-8 (a C++ publisher, a corrupt slot): they decode with errors="replace",
/// i.e. each ill-formed sequence reads as U+FFFD, so frame_id and repr() never
/// raise UnicodeDecodeError (and the text can be set as a frame_id again).
nb::str frame_id_text(const Message& msg);

/// set_frame_id(str): the UTF-8 of `id`, lone surrogates encoded as they are
/// ("surrogatepass") so that Message::set_frame_id's UTF-8 check names them.
void set_frame_id_text(Message& msg, nb::handle id);

template <typename T>
void bind_message_common(nb::class_<T>& cls) {
    cls.def_prop_ro("dtype", [](const T& m) { return std::string(dtype_name(m.dtype())); },
                    "Element type name, e.g. 'uint8' or 'float32'.")
        .def_prop_ro("nbytes", &T::nbytes, "Payload size in bytes.")
        .def_prop_ro("frame_id", [](const T& m) { return frame_id_text(m); },
                     "Sensor frame identifier: text of at most 63 UTF-8 bytes.\n\n"
                     "A received frame_id that is not UTF-8 (from a C++ publisher, say) is decoded\n"
                     "with errors='replace': each ill-formed byte sequence reads as U+FFFD.")
        .def_prop_ro("timestamp_ns", &T::timestamp_ns, "Timestamp in nanoseconds.")
        .def("set_frame_id", [](T& m, nb::str id) { set_frame_id_text(m, id); }, nb::arg("frame_id"),
             "Sets the frame identifier: at most 63 UTF-8 bytes, no NUL (ValueError otherwise).")
        .def("set_timestamp_ns",
             [](T& m, IntArg t) {
                 // IntArg (py_args.hpp): values outside 0..2^64-1 get a ValueError
                 // and floats a TypeError naming them, not nanobind's generic
                 // "incompatible function arguments".
                 m.set_timestamp_ns(uint64_arg(t, "timestamp_ns", "nanoseconds"));
             },
             nb::arg("timestamp_ns"), "Sets the timestamp in nanoseconds (0..2^64-1).")
        .def("is_cpu", &T::is_cpu, "True: payloads live in CPU shared memory.")
        .def_prop_ro("is_shared", &T::is_shared,
                     "True once the message was sent or if it was received: it is then read-only.")
        .def("data_ptr",
             [](const T& m) { return reinterpret_cast<uintptr_t>(m.data()); },
             "Address of the payload in this process (for zero-copy checks).")
        .def("copy", [](const T& m) { return m.copy(); },
             "A private, writable copy in a new pool block.")
        .def("to_numpy",
             [](nb::handle self) {
                 const T& m = nb::cast<const T&>(self);
                 nb::object a = framework_view(self, m, Framework::NumPy);
                 return m.record_hash() ? records_view(std::move(a), m) : a;
             },
             "Zero-copy NumPy view of the payload (read-only if the message is shared). A Tensor "
             "of records gives a structured array of the message's dtype.")
        .def("to_torch",
             [](nb::handle self) { return framework_view(self, nb::cast<const T&>(self), Framework::Torch); },
             "Zero-copy PyTorch tensor of the payload (via DLPack).")
        .def("to_jax",
             [](nb::handle self) { return framework_view(self, nb::cast<const T&>(self), Framework::Jax); },
             "Zero-copy JAX array of the payload (via DLPack).")
        .def_prop_ro("__array_interface__",
                     [](const T& m) { return array_interface(m); },
                     "NumPy array interface (version 3) describing the payload in place.")
        .def("__dlpack__",
             [](nb::handle self, nb::kwargs kwargs) {
                 const T& m = nb::cast<const T&>(self);
                 return dlpack(self, m, kwargs, [&] {
                     nb::object o = nb::cast(m.copy());
                     return std::pair<nb::object, const Message*>(o, &nb::cast<const T&>(o));
                 });
             },
             "DLPack export (keyword-only: stream, max_version, dl_device, copy). "
             "Returns a versioned capsule when max_version >= (1, 0), else a legacy one; "
             "copy=True exports a private copy. stream must be None and dl_device None or "
             "(1, 0) (CPU memory): other values are a BufferError, values of the wrong type "
             "(copy not None/True/False, say) a TypeError.")
        .def("__dlpack_device__", [](const T&) { return nb::make_tuple(1, 0); },
             "(kDLCPU, 0): horus payloads live in CPU memory.");
}

}  // namespace horus::py

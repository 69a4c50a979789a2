// bind_tensor.cpp — Python class horus.Tensor (the spec's GenericMessage).
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <optional>

#include "horus/msg/tensor.hpp"
#include "py_args.hpp"
#include "py_message.hpp"
#include "py_record.hpp"

namespace nb = nanobind;

namespace horus::py {
namespace {

Tensor tensor_from_input(const ArrayInput& in);

/// Tensor.from_numpy of a structured array whose dtype is a declared message's: the
/// bytes as uint8 (..., record size), tagged with the record type.
std::optional<Tensor> records_from_numpy(nb::handle a) {
    if (!nb::hasattr(a, "dtype")) return std::nullopt;
    nb::object dt = a.attr("dtype");
    if (!nb::hasattr(dt, "names") || dt.attr("names").is_none()) return std::nullopt;
    static PyObject* helper = nullptr;
    if (!helper) helper = nb::getattr(nb::module_::import_("horus._message"), "_records_input").release().ptr();
    nb::tuple r = nb::borrow<nb::tuple>(nb::borrow(helper)(a));
    const RecordTypeInfo* info =
        PyType_Check(r[1].ptr()) ? record_type_info(reinterpret_cast<PyTypeObject*>(r[1].ptr())) : nullptr;
    if (!info) throw TypeMismatch("not a declared message class");
    Tensor t = tensor_from_input(array_input(r[0], "Tensor.from_numpy"));
    t.set_record_layout(info->layout);
    return t;
}

Tensor tensor_from_input(const ArrayInput& in) {
    uint64_t offset = 0;
    if (Block b = pool_block_of(in, &offset)) return Tensor(in.shape, in.dtype, std::move(b), offset);
    Tensor t(in.shape, in.dtype);
    copy_into(t.mutable_data(), in);
    return t;
}

std::vector<uint64_t> shape_arg(nb::handle shape) {
    std::vector<uint64_t> out;
    nb::object seq = nb::borrow<nb::object>(shape);
    // One int (or NumPy integer) is the shape of a 1-d tensor.
    if (!PySequence_Check(seq.ptr()) && PyIndex_Check(seq.ptr()) && !PyBool_Check(seq.ptr()))
        seq = nb::make_tuple(shape);
    if (!PySequence_Check(seq.ptr()) || PyUnicode_Check(seq.ptr()) || PyBytes_Check(seq.ptr()))
        throw TypeMismatch("Tensor shape must be a sequence of ints; got " + value_repr(shape) + " (" +
                           qualname_of(shape) + ")");
    for (nb::handle d : seq) {
        if (PyBool_Check(d.ptr()) || !PyIndex_Check(d.ptr()))
            throw TypeMismatch("Tensor shape entries must be ints; got " + value_repr(d) + " (" + qualname_of(d) +
                               ")");
        int64_t v = 0;
        const bool fits = read_int64(d, "Tensor shape entries", &v);
        if (v < 0)
            throw InvalidArgument("Tensor shape entry " + value_repr(d) + " is invalid; dimensions must be >= 0");
        if (!fits)
            throw InvalidArgument("Tensor shape entry " + value_repr(d) +
                                  " makes the payload larger than 2^50 bytes; dimensions must be 0..2^50");
        out.push_back(static_cast<uint64_t>(v));
    }
    if (out.size() > static_cast<std::size_t>(kMaxDims))
        throw InvalidArgument("Tensor shape has " + std::to_string(out.size()) + " dimensions; at most " +
                              std::to_string(kMaxDims) + " are supported");
    return out;
}

}  // namespace

void bind_tensor(nb::module_& m) {
    nb::class_<Tensor> cls(m, "Tensor",
                           "Pool-backed n-dimensional array (0-8 dims, any common dtype): the generic "
                           "message for data that is not an image, depth image or point cloud.\n\n"
                           "Values are unspecified until written (like numpy.empty).");
    cls.def(
           "__init__",
           [](Tensor* self, nb::handle shape, const std::string& dtype) {
               new (self) Tensor(shape_arg(shape), parse_dtype(dtype));
           },
           nb::arg("shape"), nb::arg("dtype") = "float32")
        .def_static("from_numpy",
                    [](nb::handle a) {
                        if (auto t = records_from_numpy(a)) return std::move(*t);
                        return tensor_from_input(array_input(a, "Tensor.from_numpy"));
                    },
                    nb::arg("array"),
                    "Copies any CPU array into a new pool tensor (no copy if it already views a pool block). "
                    "A structured array whose dtype is a @horus.message class's dtype becomes a Tensor of "
                    "those records (record_type names the class).")
        .def("_set_record_type",
             [](Tensor& t, nb::handle cls) {
                 const RecordTypeInfo* info =
                     PyType_Check(cls.ptr()) ? record_type_info(reinterpret_cast<PyTypeObject*>(cls.ptr())) : nullptr;
                 if (!info) throw TypeMismatch("_set_record_type needs a @horus.message class");
                 t.set_record_layout(info->layout);
             },
             nb::arg("message_type"), "Tags a uint8 tensor (..., record size) as records of message_type.")
        .def_prop_ro("record_type",
                     [](const Tensor& t) -> nb::object {
                         if (!t.record_hash()) return nb::none();
                         const RecordTypeInfo* info = record_type_for_hash(t.record_hash());
                         return info ? nb::borrow(reinterpret_cast<PyObject*>(info->cls)) : nb::none();
                     },
                     "The message class of a Tensor of records (None for other tensors, or when the class "
                     "is not declared in this process).")
        .def_static("from_torch", [](nb::handle t) { return tensor_from_input(torch_input(t, "Tensor.from_torch")); },
                    nb::arg("tensor"), "Copies a CPU torch.Tensor into a new pool tensor.")
        .def_prop_ro("shape",
                     [](const Tensor& t) {
                         nb::list l;
                         for (uint64_t s : t.shape()) l.append(s);
                         return nb::tuple(l);
                     },
                     "Shape as a tuple of ints.")
        .def_prop_ro("ndim", &Tensor::ndim, "Number of dimensions.")
        .def("__repr__", [](const Tensor& t) {
            if (t.record_hash()) {
                const std::vector<uint64_t> dims(t.shape().begin(), t.shape().end() - 1);
                const std::string type = t.record_layout() ? t.record_layout()->name() : hash_hex(t.record_hash());
                return "Tensor(" + type + " records, shape=" + shape_str(dims) + ", " + repr_metadata(t) + ")";
            }
            return "Tensor(shape=" + shape_str(std::vector<uint64_t>(t.shape().begin(), t.shape().end())) +
                   ", dtype=" + std::string(dtype_name(t.dtype())) + ", " + repr_metadata(t) + ")";
        });
    bind_message_common(cls);
}

}  // namespace horus::py

// bind_tensor.cpp — Python class horus.Tensor (the spec's GenericMessage).
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "horus/msg/tensor.hpp"
#include "py_args.hpp"
#include "py_message.hpp"

namespace nb = nanobind;

namespace horus::py {
namespace {

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
        .def_static("from_numpy", [](nb::handle a) { return tensor_from_input(array_input(a, "Tensor.from_numpy")); },
                    nb::arg("array"), "Copies any CPU array into a new pool tensor (no copy if it already views a pool block).")
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
            return "Tensor(shape=" + shape_str(std::vector<uint64_t>(t.shape().begin(), t.shape().end())) +
                   ", dtype=" + std::string(dtype_name(t.dtype())) + ", " + repr_metadata(t) + ")";
        });
    bind_message_common(cls);
}

}  // namespace horus::py

// py_arrays.cpp — see py_arrays.hpp.
#include "py_arrays.hpp"

#include <nanobind/ndarray.h>
// The std::string caster for the nb::cast<std::string> calls below (without it
// nanobind treats std::string as an unbound class).
#include <nanobind/stl/string.h>

#include <cstring>

#include "horus/base/error.hpp"
#include "horus/pool/pool.hpp"
#include "horus/msg/strided_copy.hpp"
#include "py_gil.hpp"
#include "py_views.hpp"

namespace nb = nanobind;

namespace horus::py {
namespace {

nb::dlpack::dtype to_dlpack(DType d) {
    const DTypeInfo& info = dtype_info(d);
    nb::dlpack::dtype t;
    t.code = static_cast<uint8_t>(info.kind);
    t.bits = static_cast<uint8_t>(info.itemsize * 8);
    t.lanes = 1;
    return t;
}

const char* typestr(DType d) {
    switch (d) {
        case DType::Bool: return "|b1";
        case DType::Int8: return "|i1";
        case DType::Int16: return "<i2";
        case DType::Int32: return "<i4";
        case DType::Int64: return "<i8";
        case DType::UInt8: return "|u1";
        case DType::UInt16: return "<u2";
        case DType::UInt32: return "<u4";
        case DType::UInt64: return "<u8";
        case DType::Float16: return "<f2";
        case DType::Float32: return "<f4";
        case DType::Float64: return "<f8";
    }
    return "|u1";
}

/// str(obj) as a std::string. Takes a handle on purpose: nb::str(obj.attr("x"))
/// would convert the attribute accessor with cast<nb::str>, which is an
/// isinstance check, not str(): it threw std::bad_cast for np.dtype and
/// torch.device (so DepthImage.from_torch(torch.randn(480, 640)) and every
/// error message naming an array's dtype came out as "RuntimeError: std::bad_cast").
std::string str_of(nb::handle obj) { return nb::cast<std::string>(nb::str(obj)); }

std::string py_type_name(nb::handle obj) {
    return nb::cast<std::string>(nb::str(nb::handle((PyObject*)Py_TYPE(obj.ptr())).attr("__qualname__")));
}

constexpr std::size_t kReleaseGilBytes = 64 * 1024;

}  // namespace

std::string shape_str(const std::vector<uint64_t>& shape) {
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(shape[i]);
    }
    if (shape.size() == 1) s += ",";
    return s + ")";
}

std::string ArrayInput::describe() const {
    return std::string(dtype_name(dtype)) + " array of shape " + shape_str(shape);
}

namespace {

/// A torch tensor whose negative or conjugate bit is set, made plain: torch's
/// __dlpack__ exports such a view's memory without the bit (so the values would
/// come out negated). Returns `obj` itself otherwise. The tensor returned is
/// the only owner of the resolved memory: the caller must keep it alive.
nb::object resolve_lazy_torch_view(nb::handle obj) {
    if (std::strcmp(Py_TYPE(obj.ptr())->tp_name, "numpy.ndarray") == 0 || !nb::hasattr(obj, "is_neg") ||
        !nb::hasattr(obj, "resolve_neg") || !nb::hasattr(obj, "resolve_conj"))
        return nb::borrow(obj);
    if (!nb::cast<bool>(obj.attr("is_neg")()) && !nb::cast<bool>(obj.attr("is_conj")())) return nb::borrow(obj);
    return obj.attr("resolve_conj")().attr("resolve_neg")();
}

}  // namespace

ArrayInput array_input(nb::handle given, const char* function) {
    if (given.is_none())
        throw TypeMismatch(std::string(function) + "() expects an array, got None");
    ArrayInput in;
    in.owner = resolve_lazy_torch_view(given);
    nb::handle obj = in.owner;
    nb::ndarray<nb::ro>& arr = in.array;
    if (!nb::try_cast(obj, arr, false)) {
        PyErr_Clear();
        std::string what = py_type_name(obj);
        if (nb::hasattr(obj, "dtype"))
            what += " with dtype " + str_of(obj.attr("dtype"));
        throw TypeMismatch(std::string(function) + "() cannot read a " + what +
                           "; it accepts CPU arrays (NumPy, PyTorch, anything with "
                           "__dlpack__ or the buffer protocol) of dtype " + dtype_names());
    }
    if (arr.device_type() != nb::device::cpu::value)
        throw TypeMismatch(std::string(function) + "() got an array on DLPack device type " +
                           std::to_string(arr.device_type()) +
                           "; horus messages live in CPU shared memory: move it to the CPU first");
    in.dtype = dtype_from_dlpack(arr.dtype().code, arr.dtype().bits);
    if (arr.dtype().lanes != 1)
        throw TypeMismatch(std::string(function) + "() does not accept vector (multi-lane) dtypes");
    if (arr.ndim() > static_cast<std::size_t>(kMaxDims))
        throw InvalidArgument(std::string(function) + "() got " + std::to_string(arr.ndim()) +
                              " dimensions; at most " + std::to_string(kMaxDims) + " are supported");
    const std::size_t item = dtype_size(in.dtype);
    in.data = static_cast<const std::byte*>(arr.data());
    for (std::size_t i = 0; i < arr.ndim(); ++i) {
        in.shape.push_back(static_cast<uint64_t>(arr.shape(i)));
        in.byte_strides.push_back(arr.stride(i) * static_cast<int64_t>(item));
    }
    in.nbytes = payload_bytes(in.shape, in.dtype);
    in.c_contiguous = is_c_contiguous(in.shape, in.byte_strides, item);
    if (nb::hasattr(obj, "flags")) {
        nb::object flags = obj.attr("flags");
        if (nb::hasattr(flags, "writeable")) in.writable = nb::cast<bool>(flags.attr("writeable"));
    }
    return in;
}

ArrayInput torch_input(nb::handle obj, const char* function) {
    if (!nb::hasattr(obj, "detach") || !nb::hasattr(obj, "device"))
        throw TypeMismatch(std::string(function) + "() expects a torch.Tensor, got " + py_type_name(obj));
    std::string device = str_of(obj.attr("device"));
    if (device != "cpu")
        throw TypeMismatch(std::string(function) + "() got a tensor on device '" + device +
                           "'; horus messages live in CPU shared memory: call .cpu() first");
    // array_input keeps the detached (and, for negative/conjugate views, resolved)
    // tensor alive in ArrayInput::owner until the copy is done.
    return array_input(obj.attr("detach")(), function);
}

Block pool_block_of(const ArrayInput& in, uint64_t* offset) {
    if (!in.c_contiguous || !in.writable || in.nbytes == 0) return {};
    // A misaligned view (np.frombuffer(..., offset=1)) is copied: messages keep elements aligned.
    if (reinterpret_cast<uintptr_t>(in.data) % dtype_size(in.dtype) != 0) return {};
    std::size_t off = 0;
    Block b = Pool::instance().find(in.data, in.nbytes, &off);
    if (b && offset) *offset = off;
    return b;
}

void copy_into(std::byte* dst, const ArrayInput& in) {
    if (in.nbytes == 0) return;
    auto copy = [&] {
        if (in.c_contiguous)
            std::memcpy(dst, in.data, in.nbytes);
        else
            copy_strided(dst, in.data, in.shape, in.byte_strides, dtype_size(in.dtype));
    };
    if (in.nbytes >= kReleaseGilBytes) {
        without_gil(copy);
    } else {
        copy();
    }
}

// ---- to_torch fast path ---------------------------------------------------------
//
// nanobind exports to PyTorch by wrapping the array in an nb_ndarray object and
// calling torch.utils.dlpack.from_dlpack(obj), whose Python code then queries
// __dlpack_device__ and calls __dlpack__ with several keyword combinations —
// about 1.4 us per call, ~3x torch.from_numpy. Instead we build a legacy DLPack
// capsule ("dltensor") here and give it straight to torch's C++ importer. The capsule's manager context owns a reference to the
// Python message (`self`), so the tensor keeps the block alive exactly as the
// nanobind path did.
namespace {

struct ManagedTensor {  // DLManagedTensor (dlpack.h) with room for the shape
    nb::dlpack::dltensor dl_tensor;
    void* manager_ctx;
    void (*deleter)(ManagedTensor*);
    int64_t shape[kMaxDims];
    PyObject* owner;
};

void managed_tensor_deleter(ManagedTensor* mt) {
    // Consumers may call the deleter from any thread, with or without the GIL.
    PyGILState_STATE st = PyGILState_Ensure();
    Py_XDECREF(mt->owner);
    PyGILState_Release(st);
    delete mt;
}

void dltensor_capsule_destructor(PyObject* capsule) {
    // Only an unconsumed capsule still carries the name "dltensor"; a consumer
    // renames it "used_dltensor" and calls the deleter itself later.
    if (PyCapsule_IsValid(capsule, "dltensor")) {
        auto* mt = static_cast<ManagedTensor*>(PyCapsule_GetPointer(capsule, "dltensor"));
        if (mt) managed_tensor_deleter(mt);
    } else {
        PyErr_Clear();
    }
}

nb::object torch_view(nb::handle self, const Message& msg) {
    // torch._C._from_dlpack is what torch.utils.dlpack.from_dlpack(capsule) calls
    // after ~140 ns of Python checks that a bare CPU capsule does not need; use
    // the public function when a future torch drops the private one.
    static PyObject* from_dlpack = [] {
        nb::object c = nb::module_::import_("torch").attr("_C");
        nb::object f = nb::hasattr(c, "_from_dlpack")
                           ? c.attr("_from_dlpack")
                           : nb::module_::import_("torch.utils.dlpack").attr("from_dlpack");
        return f.release().ptr();  // kept for the process lifetime
    }();
    auto* mt = new ManagedTensor{};
    mt->dl_tensor.data = const_cast<std::byte*>(msg.data());
    mt->dl_tensor.device = {1, 0};  // kDLCPU
    mt->dl_tensor.ndim = static_cast<int32_t>(msg.ndim());
    mt->dl_tensor.dtype = to_dlpack(msg.dtype());
    for (std::size_t i = 0; i < msg.ndim(); ++i) mt->shape[i] = static_cast<int64_t>(msg.shape()[i]);
    mt->dl_tensor.shape = mt->shape;
    mt->dl_tensor.strides = nullptr;  // C-contiguous
    mt->manager_ctx = mt;
    mt->deleter = managed_tensor_deleter;
    mt->owner = nb::handle(self).inc_ref().ptr();
    PyObject* capsule = PyCapsule_New(mt, "dltensor", dltensor_capsule_destructor);
    if (!capsule) {
        managed_tensor_deleter(mt);
        throw nb::python_error();
    }
    nb::object cap = nb::steal(capsule);
    PyObject* args[] = {nullptr, capsule};
    PyObject* out = PyObject_Vectorcall(from_dlpack, args + 1, 1 | PY_VECTORCALL_ARGUMENTS_OFFSET, nullptr);
    if (!out) throw nb::python_error();
    return nb::steal(out);
}

}  // namespace

nb::object export_view(nb::handle self, const Message& msg, Framework framework) {
    if (framework == Framework::Torch) return torch_view(self, msg);
    std::size_t shape[kMaxDims];
    for (std::size_t i = 0; i < msg.ndim(); ++i) shape[i] = static_cast<std::size_t>(msg.shape()[i]);
    const nb::dlpack::dtype dt = to_dlpack(msg.dtype());
    void* data = const_cast<std::byte*>(msg.data());
    const bool ro = msg.is_shared();
    auto make = [&](auto tag) -> nb::object {
        using Tag = decltype(tag);
        if (ro && framework != Framework::Torch) {
            nb::ndarray<Tag, nb::ro> a(data, msg.ndim(), shape, self, nullptr, dt);
            return nb::cast(a, nb::rv_policy::reference);
        }
        nb::ndarray<Tag> a(data, msg.ndim(), shape, self, nullptr, dt);
        return nb::cast(a, nb::rv_policy::reference);
    };
    switch (framework) {
        case Framework::NumPy: {
            nb::object arr = make(nb::numpy{});
            if (!ro) track_writable_view(msg.block(), arr);  // made read-only when the block is sent
            return arr;
        }
        case Framework::Torch: return make(nb::pytorch{});
        case Framework::Jax: return make(nb::jax{});
        case Framework::ArrayApi: return make(nb::array_api{});
    }
    return nb::none();
}

nb::dict array_interface(const Message& msg) {
    nb::dict d;
    nb::list shape;
    for (uint64_t s : msg.shape()) shape.append(s);
    d["shape"] = nb::tuple(shape);
    d["typestr"] = typestr(msg.dtype());
    d["data"] = nb::make_tuple(reinterpret_cast<uintptr_t>(msg.data()), msg.is_shared());
    d["strides"] = nb::none();
    d["version"] = 3;
    return d;
}

}  // namespace horus::py

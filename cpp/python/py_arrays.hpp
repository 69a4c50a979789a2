// py_arrays.hpp — moving arrays between Python frameworks and pool messages.
//
// Import (from_numpy/from_torch): any CPU array that nanobind can read
// (buffer protocol, __dlpack__, NumPy/PyTorch/JAX) becomes an ArrayInput; its
// data is copied once into a new block, or not at all when it already is a
// C-contiguous, writable view of a pool block this process holds.
// Export (to_numpy/to_torch/to_jax/__dlpack__/__array_interface__): a view of
// the message's block whose owner is the Python message object, so the view
// keeps the block alive after the caller dropped the message.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstdint>
#include <string>
#include <vector>

#include "horus/pool/block.hpp"
#include "horus/msg/message.hpp"

namespace horus::py {

struct ArrayInput {
    // What `data` points into, held until the ArrayInput dies so that copy_into
    // never reads freed memory: the array given, or the tensor that resolving
    // torch's negative/conjugate bit made from it (its only owner), and
    // nanobind's import of it (the DLPack capsule's manager, which owns the
    // memory when a producer's __dlpack__ exported a temporary).
    nanobind::object owner;
    nanobind::ndarray<nanobind::ro> array;
    const std::byte* data = nullptr;
    DType dtype = DType::UInt8;
    std::vector<uint64_t> shape;
    std::vector<int64_t> byte_strides;
    bool c_contiguous = true;
    bool writable = true;
    uint64_t nbytes = 0;

    std::string describe() const;  // "uint8 array of shape (480, 640, 3)"
};

/// Reads `obj` as a CPU array; TypeError naming what was given and what is
/// accepted otherwise (lists, object dtype, GPU tensors, ...).
ArrayInput array_input(nanobind::handle obj, const char* function);

/// For from_torch: detaches autograd, checks the device, then array_input().
ArrayInput torch_input(nanobind::handle obj, const char* function);

/// The pool block `in` already lives in (zero-copy), if any. Sets `offset`.
Block pool_block_of(const ArrayInput& in, uint64_t* offset);

/// Copies `in` (any strides) into `dst` in C order, without the GIL for big arrays.
void copy_into(std::byte* dst, const ArrayInput& in);

enum class Framework { NumPy, Torch, Jax, ArrayApi };

/// A view of `msg`'s payload for `framework`, owned by `self` (the Python message).
nanobind::object export_view(nanobind::handle self, const Message& msg, Framework framework);

/// __array_interface__ dict of `msg`.
nanobind::dict array_interface(const Message& msg);

/// "(480, 640, 3)"
std::string shape_str(const std::vector<uint64_t>& shape);

}  // namespace horus::py

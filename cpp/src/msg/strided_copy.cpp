// strided_copy.cpp — see strided_copy.hpp.
#include "horus/msg/strided_copy.hpp"

#include <cstring>

namespace horus {

bool is_c_contiguous(std::span<const uint64_t> shape, std::span<const int64_t> byte_strides,
                     std::size_t itemsize) {
    // Empty: any strides will do. (Checked up front: inside the loop below a
    // stride mismatch in a later dimension returned false before the zero was seen.)
    for (uint64_t s : shape)
        if (s == 0) return true;
    int64_t expected = static_cast<int64_t>(itemsize);
    for (std::size_t i = shape.size(); i-- > 0;) {
        if (shape[i] != 1 && byte_strides[i] != expected) return false;
        expected *= static_cast<int64_t>(shape[i]);
    }
    return true;
}

namespace {

// Copies dims [dim, run_dim) element-run by run; dims >= run_dim form one contiguous run of `run` bytes.
void copy_dim(std::byte*& dst, const std::byte* src, std::span<const uint64_t> shape,
              std::span<const int64_t> strides, std::size_t dim, std::size_t run_dim, std::size_t run) {
    if (dim == run_dim) {
        std::memcpy(dst, src, run);
        dst += run;
        return;
    }
    for (uint64_t i = 0; i < shape[dim]; ++i)
        copy_dim(dst, src + static_cast<int64_t>(i) * strides[dim], shape, strides, dim + 1, run_dim, run);
}

}  // namespace

void copy_strided(std::byte* dst, const std::byte* src, std::span<const uint64_t> shape,
                  std::span<const int64_t> byte_strides, std::size_t itemsize) {
    for (uint64_t s : shape)
        if (s == 0) return;
    // Find the longest C-contiguous suffix of dimensions: it is copied as one run.
    std::size_t run_dim = shape.size();
    std::size_t run = itemsize;
    while (run_dim > 0) {
        const std::size_t d = run_dim - 1;
        if (shape[d] != 1 && byte_strides[d] != static_cast<int64_t>(run)) break;
        run *= shape[d];
        run_dim = d;
    }
    copy_dim(dst, src, shape, byte_strides, 0, run_dim, run);
}

}  // namespace horus

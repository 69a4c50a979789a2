// tensor.cpp — generic n-dimensional message (see tensor.hpp).
#include "horus/msg/tensor.hpp"

#include "horus/base/error.hpp"
#include "horus/pool/pool.hpp"

namespace horus {

Tensor::Tensor(std::span<const uint64_t> shape, DType dtype)
    : Message(MessageKind::Tensor, dtype, shape) {}

Tensor::Tensor(std::span<const uint64_t> shape, DType dtype, Block block, uint64_t offset)
    : Message(describe_payload(MessageKind::Tensor, dtype, shape, offset), std::move(block), false) {}

Tensor Tensor::from_descriptor(const TensorDescriptor& desc) {
    const TensorDescriptor d = validate(desc, MessageKind::Tensor);
    return received(d, Pool::instance().acquire(d.block));
}

Tensor Tensor::received(const TensorDescriptor& desc, Block b) {
    const TensorDescriptor d = validate(desc, MessageKind::Tensor);
    return Tensor(d, std::move(b), true);
}

Tensor Tensor::copy() const {
    auto [d, b] = copy_payload();
    return Tensor(d, std::move(b), false);
}

}  // namespace horus

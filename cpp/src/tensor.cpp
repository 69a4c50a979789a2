// tensor.cpp — generic n-dimensional message (see tensor.hpp).
#include "horus/tensor.hpp"

#include "horus/error.hpp"
#include "horus/pool.hpp"

namespace horus {

Tensor::Tensor(std::span<const uint64_t> shape, DType dtype)
    : Message(MessageKind::Tensor, dtype, shape) {}

static TensorDescriptor tensor_descriptor(std::span<const uint64_t> shape, DType dtype, uint64_t offset) {
    if (shape.size() > kMaxDims)
        throw InvalidArgument(std::to_string(shape.size()) + " dimensions given; at most " +
                              std::to_string(kMaxDims) + " are supported");
    TensorDescriptor d;
    d.kind = MessageKind::Tensor;
    d.dtype = dtype;
    d.ndim = static_cast<uint8_t>(shape.size());
    std::copy(shape.begin(), shape.end(), d.shape);
    d.nbytes = payload_bytes(shape, dtype);
    d.offset = offset;
    return d;
}

Tensor::Tensor(std::span<const uint64_t> shape, DType dtype, Block block, uint64_t offset)
    : Message(tensor_descriptor(shape, dtype, offset), std::move(block), false) {}

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

// tensor.hpp — Tensor: a pool-backed n-dimensional array of any supported dtype
// (the spec's GenericMessage), for data that is not an image, depth image or cloud.
#pragma once

#include <span>

#include "horus/msg/message.hpp"

namespace horus {

class Tensor : public Message {
  public:
    /// 0 to 8 dimensions; zero-length dimensions are allowed (an empty tensor).
    Tensor(std::span<const uint64_t> shape, DType dtype);
    /// A Tensor viewing `block` at `offset` (zero-copy); validated against the block.
    Tensor(std::span<const uint64_t> shape, DType dtype, Block block, uint64_t offset);
    /// A received Tensor (shared, read-only).
    static Tensor from_descriptor(const TensorDescriptor& desc);
    /// A received Tensor over `block` (already acquired for `desc.block`); shared, read-only.
    static Tensor received(const TensorDescriptor& desc, Block block);
    Tensor copy() const;

  private:
    Tensor(const TensorDescriptor& desc, Block block, bool shared)
        : Message(desc, std::move(block), shared) {}
};

}  // namespace horus

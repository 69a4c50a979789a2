// tensor.hpp — Tensor: a pool-backed n-dimensional array of any supported dtype
// (the spec's GenericMessage), for data that is not an image, depth image or cloud.
//
// A Tensor of records (an array of typed messages: detections, waypoints) is a uint8
// Tensor whose last dimension is the size of one record, tagged with the record's
// layout: Tensor::of<Detection>(n) makes one, records<Detection>() reads it. A topic
// that carries such tensors accepts only tensors of that record type.
#pragma once

#include <span>

#include "horus/base/error.hpp"
#include "horus/msg/message.hpp"
#include "horus/msg/record.hpp"

namespace horus {

class Tensor : public Message {
  public:
    /// 0 to 8 dimensions; zero-length dimensions are allowed (an empty tensor).
    Tensor(std::span<const uint64_t> shape, DType dtype);
    /// A Tensor viewing `block` at `offset` (zero-copy); validated against the block.
    Tensor(std::span<const uint64_t> shape, DType dtype, Block block, uint64_t offset);
    /// A received Tensor (shared, read-only).
    static Tensor from_descriptor(const TensorDescriptor& desc);
    /// A received Tensor over `block` (already acquired for `desc.block`); shared,
    /// read-only. `record_hash`: the record type of a Tensor-of-records topic.
    static Tensor received(const TensorDescriptor& desc, Block block, uint64_t record_hash = 0);
    Tensor copy() const;

    /// `count` zeroed records of type T (shape (count, sizeof(T)), dtype uint8).
    template <Record T>
    static Tensor of(std::size_t count) {
        const uint64_t shape[2] = {count, sizeof(T)};
        Tensor t(shape, DType::UInt8);
        std::memset(t.mutable_data(), 0, t.nbytes());
        t.set_record_layout(T::horus_layout().shared_from_this());
        return t;
    }
    /// Tags this uint8 Tensor as records of `layout`: its last dimension must be
    /// layout->size() (InvalidArgument otherwise; ReadOnlyError once shared).
    void set_record_layout(std::shared_ptr<const RecordLayout> layout);

    /// The records, if this is a Tensor of T records (TypeMismatch otherwise).
    template <Record T>
    std::span<const T> records() const {
        require_records(T::layout_hash(), T::horus_layout().name());
        return {reinterpret_cast<const T*>(data()), nbytes() / sizeof(T)};
    }
    template <Record T>
    std::span<T> mutable_records() {
        require_records(T::layout_hash(), T::horus_layout().name());
        return {reinterpret_cast<T*>(mutable_data()), nbytes() / sizeof(T)};
    }

  private:
    Tensor(const TensorDescriptor& desc, Block block, bool shared)
        : Message(desc, std::move(block), shared) {}
    void require_records(uint64_t hash, const std::string& name) const;
};

}  // namespace horus

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

Tensor Tensor::received(const TensorDescriptor& desc, Block b, uint64_t record_hash) {
    const TensorDescriptor d = validate(desc, MessageKind::Tensor);
    Tensor t(d, std::move(b), true);
    if (d.record_size != 0) {
        t.record_hash_ = record_hash;
        if (record_hash != 0) {
            t.record_ = find_record_layout(record_hash).get();  // registered: lives as long as the process
            if (t.record_ && t.record_->size() != d.record_size)
                throw ShmError("corrupt descriptor: records of " + std::to_string(d.record_size) + " bytes on a topic of " +
                               t.record_->name() + " (" + std::to_string(t.record_->size()) + " bytes)");
            // Bools of 0/1 and UTF-8 text only, as for single typed messages.
            if (std::string bad = t.first_invalid_record(); !bad.empty())
                throw ShmError("received Tensor of " + t.record_->name() + " records holds an invalid value (" + bad + ")");
        }
    }
    return t;
}

Tensor Tensor::copy() const {
    auto [d, b] = copy_payload();
    Tensor t(d, std::move(b), false);
    t.record_ = record_;
    t.record_hash_ = record_hash_;
    return t;
}

void Tensor::set_record_layout(std::shared_ptr<const RecordLayout> layout) {
    require_writable("set_record_layout");
    if (!layout) {
        desc_.record_size = 0;
        record_ = nullptr;
        record_hash_ = 0;
        return;
    }
    if (desc_.dtype != DType::UInt8 || desc_.ndim == 0 || desc_.shape[desc_.ndim - 1] != layout->size())
        throw InvalidArgument("a Tensor of " + layout->name() + " records must be uint8 with a last dimension of " +
                              std::to_string(layout->size()) + " bytes (one record); this one is " +
                              std::string(dtype_name(desc_.dtype)) + " with " + std::to_string(desc_.ndim) +
                              " dimensions");
    desc_.record_size = static_cast<uint32_t>(layout->size());
    record_hash_ = layout->hash();
    register_record_layout(layout);  // kept for the process's life: record_ may point at it
    record_ = find_record_layout(layout->hash()).get();
}

void Tensor::require_records(uint64_t hash, const std::string& name) const {
    if (record_hash_ != hash)
        throw TypeMismatch("this Tensor holds " +
                           (record_hash_ == 0 ? std::string("no records")
                                              : (record_ ? record_->name() : "unknown (" + hash_hex(record_hash_) + ")") +
                                                    " records") +
                           ", not " + name + " records");
}

}  // namespace horus

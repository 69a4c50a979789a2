// test_tensor.cpp — Tensor (the spec's GenericMessage): 0..8 dims, zero-size
// dims, every dtype, sharing, descriptors, views and bad input.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "horus/base/error.hpp"
#include "horus/pool/pool.hpp"
#include "horus/msg/tensor.hpp"
#include "test_messages_common.hpp"

using namespace horus;
using horus_test::error_of;

namespace {

TEST(Tensor, ZeroToEightDims) {
    for (std::size_t nd = 0; nd <= 8; ++nd) {
        std::vector<uint64_t> shape(nd, 2);
        Tensor t(shape, DType::Int16);
        EXPECT_EQ(t.ndim(), nd);
        EXPECT_EQ(t.nbytes(), (std::size_t{1} << nd) * 2) << nd;
        EXPECT_EQ(std::vector<uint64_t>(t.shape().begin(), t.shape().end()), shape);
        EXPECT_EQ(t.kind(), MessageKind::Tensor);
        EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data()) % 64, 0u);
        std::memset(t.mutable_data(), 0x5A, t.nbytes());
    }
    std::vector<uint64_t> nine(9, 1);
    auto msg = error_of<InvalidArgument>([&] { Tensor(nine, DType::UInt8); });
    EXPECT_HAS(msg, "9 dimensions");
    EXPECT_HAS(msg, "8");
}

TEST(Tensor, EveryDType) {
    const uint64_t shape[] = {3, 5};
    for (int d = 0; d < kDTypeCount; ++d) {
        const auto dt = static_cast<DType>(d);
        Tensor t(shape, dt);
        EXPECT_EQ(t.dtype(), dt);
        EXPECT_EQ(t.nbytes(), 15 * dtype_size(dt));
    }
    error_of<InvalidArgument>([&] { Tensor(shape, static_cast<DType>(77)); });
}

TEST(Tensor, ZeroSizeDims) {
    const uint64_t base = Pool::instance().stats().blocks_in_use;
    const uint64_t shape[] = {4, 0, 3};
    Tensor t(shape, DType::Float32);
    EXPECT_EQ(t.nbytes(), 0u);
    EXPECT_EQ(t.shape()[1], 0u);
    EXPECT_TRUE(t.block().valid()) << "even an empty tensor has a block (simple lifetime rules)";
    EXPECT_EQ(t.bytes().size(), 0u);
    Tensor c = t.copy();
    EXPECT_EQ(c.nbytes(), 0u);
    Tensor rx = Tensor::from_descriptor(t.descriptor());
    EXPECT_EQ(rx.nbytes(), 0u);
    EXPECT_EQ(Pool::instance().stats().blocks_in_use, base + 2);
}

TEST(Tensor, HugeShapesRejected) {
    const uint64_t base = Pool::instance().stats().blocks_in_use;
    const uint64_t huge[] = {1ull << 40, 1ull << 20};
    auto msg = error_of<InvalidArgument>([&] { Tensor(huge, DType::UInt8); });
    EXPECT_HAS(msg, "2^50");
    const uint64_t over_cap[] = {Pool::instance().max_bytes() + 1};
    msg = error_of<PoolExhausted>([&] { Tensor(over_cap, DType::UInt8); });
    EXPECT_HAS(msg, "HORUS_POOL_MAX_BYTES");
    EXPECT_EQ(Pool::instance().stats().blocks_in_use, base);
}

TEST(Tensor, SharedCopyAndDescriptor) {
    const uint64_t shape[] = {2, 3};
    Tensor t(shape, DType::Float64);
    const double v[6] = {1, 2, 3, 4, 5, 6};
    std::memcpy(t.mutable_data(), v, sizeof v);
    t.set_timestamp_ns(99);
    Tensor alias = t;
    EXPECT_EQ(alias.data(), t.data());
    t.mark_shared();
    // Read-only is a property of the block: a copy made before the send is read-only too
    // (it shares the payload every receiver now sees).
    EXPECT_TRUE(alias.is_shared());
    error_of<ReadOnlyError>([&] { alias.mutable_data(); });
    auto msg = error_of<ReadOnlyError>([&] { t.mutable_data(); });
    EXPECT_HAS(msg, "Tensor");
    error_of<ReadOnlyError>([&] { t.set_timestamp_ns(1); });
    Tensor c = t.copy();
    EXPECT_FALSE(c.is_shared());
    EXPECT_NE(c.data(), t.data());
    EXPECT_EQ(std::memcmp(c.data(), v, sizeof v), 0);
    EXPECT_EQ(c.timestamp_ns(), 99u);
    Tensor rx = Tensor::from_descriptor(c.descriptor());
    EXPECT_TRUE(rx.is_shared());
    EXPECT_EQ(rx.data(), c.data());

    TensorDescriptor bad = c.descriptor();
    bad.ndim = 9;
    error_of<ShmError>([&] { Tensor::from_descriptor(bad); });
    bad = c.descriptor();
    bad.dtype = static_cast<DType>(12);
    error_of<ShmError>([&] { Tensor::from_descriptor(bad); });
    bad = c.descriptor();
    bad.shape[0] = 3;  // nbytes no longer matches
    auto m2 = error_of<ShmError>([&] { Tensor::from_descriptor(bad); });
    EXPECT_HAS(m2, "nbytes");
    bad = c.descriptor();
    bad.offset = c.block().capacity();  // payload beyond its block
    error_of<ShmError>([&] { Tensor::from_descriptor(bad); });
    bad = c.descriptor();
    bad.kind = static_cast<MessageKind>(0);
    error_of<TypeMismatch>([&] { Tensor::from_descriptor(bad); });
}

TEST(Tensor, ViewOfBlock) {
    Block b = Pool::instance().allocate(4096);
    const uint64_t shape[] = {16, 16};
    Tensor t(shape, DType::UInt32, b, 1024);
    EXPECT_EQ(t.data(), b.data() + 1024);
    EXPECT_EQ(t.block().ref(), b.ref());
    std::memset(t.mutable_data(), 1, t.nbytes());
    EXPECT_EQ(b.data()[1024], std::byte{1});
    error_of<ShmError>([&] { Tensor(shape, DType::UInt32, b, 3073); });
    std::vector<uint64_t> nine(9, 1);
    error_of<InvalidArgument>([&] { Tensor(nine, DType::UInt8, b, 0); });
}

}  // namespace

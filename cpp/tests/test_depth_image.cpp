// test_depth_image.cpp — DepthImage: float32 metres / uint16 millimetres, rounding,
// statistics, sharing and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "horus/msg/depth_image.hpp"
#include "horus/base/error.hpp"
#include "horus/pool/pool.hpp"
#include "test_messages_common.hpp"

using namespace horus;
using horus_test::error_of;

namespace {

TEST(DepthImage, Float32Metres) {
    DepthImage d(3, 4, DType::Float32);
    EXPECT_TRUE(d.is_meters());
    EXPECT_FALSE(d.is_millimeters());
    EXPECT_EQ(d.depth_scale(), 1.0);
    EXPECT_EQ(d.height(), 3u);
    EXPECT_EQ(d.width(), 4u);
    EXPECT_EQ(d.nbytes(), 3u * 4 * 4);
    EXPECT_EQ(d.ndim(), 2u);
    EXPECT_EQ(d.kind(), MessageKind::DepthImage);
    std::memset(d.mutable_data(), 0, d.nbytes());
    d.set_depth(3, 2, 1.5);
    EXPECT_EQ(d.get_depth(3, 2), 1.5);
    d.set_depth(0, 0, 0.1);
    EXPECT_EQ(d.get_depth(0, 0), static_cast<double>(0.1f));
    d.set_depth(1, 0, std::nan(""));
    EXPECT_TRUE(std::isnan(d.get_depth(1, 0)));
    d.set_depth(2, 0, 0.0);
    EXPECT_EQ(d.get_depth(2, 0), 0.0);
    float raw;
    std::memcpy(&raw, d.data() + (2 * 4 + 3) * 4, 4);
    EXPECT_EQ(raw, 1.5f);
}

TEST(DepthImage, UInt16MillimetresRounding) {
    DepthImage d(2, 2, DType::UInt16);
    EXPECT_TRUE(d.is_millimeters());
    EXPECT_EQ(d.depth_scale(), 0.001);
    EXPECT_EQ(d.nbytes(), 8u);
    d.set_depth(0, 0, 1.2346);  // 1234.6 mm -> 1235
    EXPECT_NEAR(d.get_depth(0, 0), 1.235, 1e-12);
    d.set_depth(1, 0, 1.2344);  // -> 1234
    EXPECT_NEAR(d.get_depth(1, 0), 1.234, 1e-12);
    d.set_depth(0, 1, 0.0004);  // rounds to 0 = no measurement
    EXPECT_EQ(d.get_depth(0, 1), 0.0);
    d.set_depth(1, 1, 65.535);
    uint16_t raw;
    std::memcpy(&raw, d.data() + 6, 2);
    EXPECT_EQ(raw, 65535);
    std::memcpy(&raw, d.data(), 2);
    EXPECT_EQ(raw, 1235);
    auto msg = error_of<InvalidArgument>([&] { d.set_depth(0, 0, 65.6); });
    EXPECT_HAS(msg, "65.6");
    EXPECT_HAS(msg, "65.535");
    error_of<InvalidArgument>([&] { d.set_depth(0, 0, std::nan("")); });
    error_of<InvalidArgument>([&] { d.set_depth(0, 0, -0.5); });
    EXPECT_NEAR(d.get_depth(0, 0), 1.235, 1e-12) << "rejected writes change nothing";
}

TEST(DepthImage, NegativeAndInfiniteDepthRejected) {
    DepthImage d(1, 1, DType::Float32);
    d.set_depth(0, 0, 2.0);
    auto msg = error_of<InvalidArgument>([&] { d.set_depth(0, 0, -1.0); });
    EXPECT_HAS(msg, "-1");
    EXPECT_HAS(msg, ">= 0");
    error_of<InvalidArgument>([&] { d.set_depth(0, 0, INFINITY); });
    error_of<InvalidArgument>([&] { d.set_depth(0, 0, 1e300); });
    EXPECT_EQ(d.get_depth(0, 0), 2.0);
}

TEST(DepthImage, Statistics) {
    DepthImage f(2, 3, DType::Float32);
    std::memset(f.mutable_data(), 0, f.nbytes());
    EXPECT_FALSE(f.depth_statistics().has_value()) << "all zero: no valid pixel";
    f.set_depth(1, 1, std::nan(""));
    EXPECT_FALSE(f.depth_statistics().has_value());
    f.set_depth(0, 0, 1.0);
    f.set_depth(1, 0, 2.0);
    f.set_depth(2, 0, 3.0);
    float inf = std::numeric_limits<float>::infinity();
    std::memcpy(f.mutable_data() + 3 * 4, &inf, 4);  // infinity is not a measurement
    auto st = f.depth_statistics();
    ASSERT_TRUE(st);
    EXPECT_EQ(st->min_m, 1.0);
    EXPECT_EQ(st->max_m, 3.0);
    EXPECT_EQ(st->mean_m, 2.0);
    EXPECT_EQ(st->valid_pixels, 3u);

    DepthImage u(1, 4, DType::UInt16);
    std::memset(u.mutable_data(), 0, u.nbytes());
    EXPECT_FALSE(u.depth_statistics().has_value());
    u.set_depth(0, 0, 1.0);
    u.set_depth(3, 0, 3.0);
    auto su = u.depth_statistics();
    ASSERT_TRUE(su);
    EXPECT_DOUBLE_EQ(su->min_m, 1.0);
    EXPECT_DOUBLE_EQ(su->max_m, 3.0);
    EXPECT_DOUBLE_EQ(su->mean_m, 2.0);
    EXPECT_EQ(su->valid_pixels, 2u);
}

TEST(DepthImage, BadInput) {
    const uint64_t base = Pool::instance().stats().blocks_in_use;
    auto msg = error_of<InvalidArgument>([] { DepthImage(2, 2, DType::Float64); });
    EXPECT_HAS(msg, "float64");
    EXPECT_HAS(msg, "float32");
    EXPECT_HAS(msg, "uint16");
    error_of<InvalidArgument>([] { DepthImage(2, 2, DType::UInt8); });
    msg = error_of<InvalidArgument>([] { DepthImage(0, 2, DType::Float32); });
    EXPECT_HAS(msg, "height = 0");
    msg = error_of<InvalidArgument>([] { DepthImage(2, DepthImage::kMaxSide + 1, DType::UInt16); });
    EXPECT_HAS(msg, "width = ");
    EXPECT_EQ(Pool::instance().stats().blocks_in_use, base);

    DepthImage d(2, 3, DType::Float32);
    msg = error_of<OutOfRange>([&] { d.get_depth(3, 0); });
    EXPECT_HAS(msg, "(3, 0)");
    EXPECT_HAS(msg, "0..2");
    error_of<OutOfRange>([&] { d.set_depth(0, 2, 1.0); });
    error_of<OutOfRange>([&] { d.get_depth(-1, 0); });

    Block b = Pool::instance().allocate(100);
    error_of<InvalidArgument>([&] { DepthImage(2, 2, DType::Int32, b, 0); });
    error_of<ShmError>([&] { DepthImage(10, 10, DType::Float32, b, 0); });
    DepthImage view(5, 5, DType::Float32, b, 0);
    EXPECT_EQ(view.data(), b.data());
}

TEST(DepthImage, SharedCopyAndDescriptor) {
    DepthImage d(2, 2, DType::UInt16);
    std::memset(d.mutable_data(), 0, d.nbytes());
    d.set_depth(1, 1, 0.5);
    d.mark_shared();
    auto msg = error_of<ReadOnlyError>([&] { d.set_depth(0, 0, 1.0); });
    EXPECT_HAS(msg, "set_depth");
    EXPECT_HAS(msg, "DepthImage");
    EXPECT_NEAR(d.get_depth(1, 1), 0.5, 1e-12);
    DepthImage c = d.copy();
    EXPECT_FALSE(c.is_shared());
    EXPECT_NE(c.data(), d.data());
    EXPECT_NE(c.block().ref(), d.block().ref());
    EXPECT_EQ(c.dtype(), DType::UInt16);
    c.set_depth(0, 0, 1.0);
    EXPECT_EQ(d.get_depth(0, 0), 0.0);

    DepthImage rx = DepthImage::from_descriptor(c.descriptor());
    EXPECT_TRUE(rx.is_shared());
    EXPECT_EQ(rx.data(), c.data());
    EXPECT_EQ(rx.get_depth(0, 0), 1.0);
    TensorDescriptor bad = c.descriptor();
    bad.kind = MessageKind::Image;
    error_of<TypeMismatch>([&] { DepthImage::from_descriptor(bad); });
    bad = c.descriptor();
    bad.dtype = DType::UInt32;
    bad.nbytes = 16;
    error_of<InvalidArgument>([&] { DepthImage::from_descriptor(bad); });
}

}  // namespace

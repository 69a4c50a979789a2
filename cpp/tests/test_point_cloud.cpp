// test_point_cloud.cpp — PointCloud: layouts, point_at, sharing, bad input.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "horus/base/error.hpp"
#include "horus/msg/point_cloud.hpp"
#include "horus/pool/pool.hpp"
#include "test_messages_common.hpp"

using namespace horus;
using horus_test::error_of;

namespace {

TEST(PointCloud, FieldLayouts) {
    struct Case {
        int64_t fields;
        bool xyz, intensity, color;
    };
    for (Case c : {Case{1, false, false, false}, Case{3, true, false, false},
                   Case{4, false, true, false}, Case{6, false, true, true}, Case{7, false, true, true}}) {
        PointCloud pc(10, c.fields, DType::Float32);
        EXPECT_EQ(pc.point_count(), 10u);
        EXPECT_EQ(pc.fields_per_point(), c.fields);
        EXPECT_EQ(pc.is_xyz(), c.xyz) << c.fields;
        EXPECT_EQ(pc.has_intensity(), c.intensity) << c.fields;
        EXPECT_EQ(pc.has_color(), c.color) << c.fields;
        EXPECT_EQ(pc.nbytes(), 10u * c.fields * 4);
        EXPECT_EQ(pc.ndim(), 2u);
        EXPECT_EQ(pc.kind(), MessageKind::PointCloud);
    }
    PointCloud d(5, 3, DType::Float64);
    EXPECT_EQ(d.nbytes(), 5u * 3 * 8);
    PointCloud h(5, 3, DType::Float16);
    EXPECT_EQ(h.nbytes(), 5u * 3 * 2);
}

TEST(PointCloud, PointAt) {
    PointCloud pc(3, 4, DType::Float32);
    std::vector<float> v(12);
    for (int i = 0; i < 12; ++i) v[i] = 0.5f * i;
    std::memcpy(pc.mutable_data(), v.data(), pc.nbytes());
    EXPECT_EQ(pc.point_at(0), (std::vector<double>{0, 0.5, 1, 1.5}));
    EXPECT_EQ(pc.point_at(2), (std::vector<double>{4, 4.5, 5, 5.5}));
    auto msg = error_of<OutOfRange>([&] { pc.point_at(3); });
    EXPECT_HAS(msg, "point index 3");
    EXPECT_HAS(msg, "3 points");
    EXPECT_HAS(msg, "0..2");
    error_of<OutOfRange>([&] { pc.point_at(-1); });

    PointCloud d(3, 3, DType::Float64);
    msg = error_of<TypeMismatch>([&] { d.point_at(0); });
    EXPECT_HAS(msg, "float64");
    EXPECT_HAS(msg, "float32");
}

TEST(PointCloud, EmptyCloud) {
    PointCloud pc(0, 3, DType::Float32);
    EXPECT_EQ(pc.point_count(), 0u);
    EXPECT_EQ(pc.nbytes(), 0u);
    EXPECT_TRUE(pc.block().valid());
    auto msg = error_of<OutOfRange>([&] { pc.point_at(0); });
    EXPECT_HAS(msg, "0 points");
    PointCloud c = pc.copy();
    EXPECT_EQ(c.point_count(), 0u);
}

TEST(PointCloud, BadInput) {
    const uint64_t base = Pool::instance().stats().blocks_in_use;
    auto msg = error_of<InvalidArgument>([] { PointCloud(10, 3, DType::UInt8); });
    EXPECT_HAS(msg, "uint8");
    EXPECT_HAS(msg, "float32");
    msg = error_of<InvalidArgument>([] { PointCloud(-1, 3, DType::Float32); });
    EXPECT_HAS(msg, "num_points = -1");
    msg = error_of<InvalidArgument>([] { PointCloud(PointCloud::kMaxPoints + 1, 3, DType::Float32); });
    EXPECT_HAS(msg, std::to_string(PointCloud::kMaxPoints + 1));
    msg = error_of<InvalidArgument>([] { PointCloud(10, 0, DType::Float32); });
    EXPECT_HAS(msg, "fields = 0");
    msg = error_of<InvalidArgument>([] { PointCloud(10, 65, DType::Float32); });
    EXPECT_HAS(msg, "fields = 65");
    EXPECT_HAS(msg, "1..64");
    EXPECT_EQ(Pool::instance().stats().blocks_in_use, base);
}

TEST(PointCloud, SharedCopyDescriptorAndView) {
    PointCloud pc(2, 3, DType::Float32);
    const float pts[6] = {1, 2, 3, 4, 5, 6};
    std::memcpy(pc.mutable_data(), pts, sizeof pts);
    pc.mark_shared();
    auto msg = error_of<ReadOnlyError>([&] { pc.mutable_data(); });
    EXPECT_HAS(msg, "PointCloud");
    error_of<ReadOnlyError>([&] { pc.set_frame_id("lidar"); });
    PointCloud c = pc.copy();
    EXPECT_FALSE(c.is_shared());
    EXPECT_NE(c.data(), pc.data());
    EXPECT_EQ(c.point_at(1), (std::vector<double>{4, 5, 6}));
    c.set_frame_id("lidar");
    PointCloud rx = PointCloud::from_descriptor(c.descriptor());
    EXPECT_TRUE(rx.is_shared());
    EXPECT_EQ(rx.data(), c.data());
    EXPECT_EQ(rx.frame_id(), "lidar");
    TensorDescriptor bad = c.descriptor();
    bad.kind = MessageKind::DepthImage;
    msg = error_of<TypeMismatch>([&] { PointCloud::from_descriptor(bad); });
    EXPECT_HAS(msg, "DepthImage");

    Block b = Pool::instance().allocate(256);
    PointCloud v(10, 3, DType::Float32, b, 64);
    EXPECT_EQ(v.data(), b.data() + 64);
    error_of<ShmError>([&] { PointCloud(100, 3, DType::Float32, b, 0); });
    error_of<InvalidArgument>([&] { PointCloud(1, 3, DType::Int32, b, 0); });
}

}  // namespace

// test_dtype_encoding.cpp — dtype and encoding tables, parsing, element access checks.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "horus/msg/dtype.hpp"
#include "horus/msg/element_access.hpp"
#include "horus/msg/encoding.hpp"
#include "horus/base/error.hpp"
#include "horus/msg/message.hpp"
#include "test_messages_common.hpp"

using namespace horus;
using horus_test::error_of;

namespace {

TEST(DType, Table) {
    struct Row {
        DType d;
        const char* name;
        std::size_t size;
        DTypeKind kind;
    };
    const std::vector<Row> rows = {
        {DType::Bool, "bool", 1, DTypeKind::Bool},       {DType::Int8, "int8", 1, DTypeKind::Int},
        {DType::Int16, "int16", 2, DTypeKind::Int},      {DType::Int32, "int32", 4, DTypeKind::Int},
        {DType::Int64, "int64", 8, DTypeKind::Int},      {DType::UInt8, "uint8", 1, DTypeKind::UInt},
        {DType::UInt16, "uint16", 2, DTypeKind::UInt},   {DType::UInt32, "uint32", 4, DTypeKind::UInt},
        {DType::UInt64, "uint64", 8, DTypeKind::UInt},   {DType::Float16, "float16", 2, DTypeKind::Float},
        {DType::Float32, "float32", 4, DTypeKind::Float}, {DType::Float64, "float64", 8, DTypeKind::Float},
    };
    ASSERT_EQ(rows.size(), static_cast<std::size_t>(kDTypeCount));
    for (const auto& r : rows) {
        EXPECT_EQ(dtype_name(r.d), r.name);
        EXPECT_EQ(dtype_size(r.d), r.size);
        EXPECT_EQ(dtype_info(r.d).kind, r.kind);
        EXPECT_EQ(parse_dtype(r.name), r.d);
        EXPECT_EQ(dtype_from_dlpack(static_cast<uint8_t>(r.kind), static_cast<uint8_t>(r.size * 8)), r.d);
        EXPECT_EQ(is_float(r.d), r.kind == DTypeKind::Float);
    }
}

TEST(DType, BadInputs) {
    auto msg = error_of<InvalidArgument>([] { parse_dtype("complex64"); });
    EXPECT_NE(msg.find("complex64"), std::string::npos) << msg;
    EXPECT_NE(msg.find("float32"), std::string::npos) << msg;
    msg = error_of<TypeMismatch>([] { dtype_from_dlpack(2, 128); });
    EXPECT_NE(msg.find("128"), std::string::npos) << msg;
    msg = error_of<InvalidArgument>([] { dtype_info(static_cast<DType>(42)); });
    EXPECT_NE(msg.find("42"), std::string::npos) << msg;
    EXPECT_NE(dtype_names().find("uint16"), std::string::npos);
}

TEST(DType, Ranges) {
    EXPECT_EQ(dtype_min(DType::UInt8), 0);
    EXPECT_EQ(dtype_max(DType::UInt8), 255);
    EXPECT_EQ(dtype_min(DType::Int16), -32768);
    EXPECT_EQ(dtype_max(DType::UInt16), 65535);
    EXPECT_EQ(dtype_max(DType::Bool), 1);
    EXPECT_EQ(dtype_max(DType::Float32), std::numeric_limits<float>::max());
}

TEST(Encoding, SpecTable) {
    struct Row {
        Encoding e;
        const char* name;
        uint32_t channels, bpp;
        DType dtype;
    };
    const std::vector<Row> rows = {
        {Encoding::Mono8, "mono8", 1, 1, DType::UInt8},
        {Encoding::Mono16, "mono16", 1, 2, DType::UInt16},
        {Encoding::Rgb8, "rgb8", 3, 3, DType::UInt8},
        {Encoding::Bgr8, "bgr8", 3, 3, DType::UInt8},
        {Encoding::Rgba8, "rgba8", 4, 4, DType::UInt8},
        {Encoding::Bgra8, "bgra8", 4, 4, DType::UInt8},
        {Encoding::Yuv422, "yuv422", 2, 2, DType::UInt8},
        {Encoding::Mono32F, "mono32f", 1, 4, DType::Float32},
        {Encoding::Rgb32F, "rgb32f", 3, 12, DType::Float32},
        {Encoding::BayerRggb8, "bayer_rggb8", 1, 1, DType::UInt8},
        {Encoding::Depth16, "depth16", 1, 2, DType::UInt16},
    };
    ASSERT_EQ(rows.size(), static_cast<std::size_t>(kEncodingCount));
    for (const auto& r : rows) {
        const auto& info = encoding_info(r.e);
        EXPECT_EQ(info.name, r.name);
        EXPECT_EQ(info.channels, r.channels) << r.name;
        EXPECT_EQ(info.bytes_per_pixel, r.bpp) << r.name;
        EXPECT_EQ(info.dtype, r.dtype) << r.name;
        EXPECT_EQ(info.bytes_per_pixel, info.channels * dtype_size(info.dtype)) << r.name;
        EXPECT_EQ(parse_encoding(r.name), r.e);
        EXPECT_NE(encoding_names().find(r.name), std::string::npos);
    }
}

TEST(Encoding, BadNames) {
    auto msg = error_of<InvalidArgument>([] { parse_encoding("RGB8"); });
    EXPECT_NE(msg.find("'RGB8'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("bayer_rggb8"), std::string::npos) << msg;
    msg = error_of<InvalidArgument>([] { encoding_info(static_cast<Encoding>(11)); });
    EXPECT_NE(msg.find("11"), std::string::npos) << msg;
}

TEST(Encoding, Inference) {
    EXPECT_EQ(infer_encoding(DType::UInt8, 1), Encoding::Mono8);
    EXPECT_EQ(infer_encoding(DType::UInt8, 3), Encoding::Rgb8);
    EXPECT_EQ(infer_encoding(DType::UInt8, 4), Encoding::Rgba8);
    EXPECT_EQ(infer_encoding(DType::UInt16, 1), Encoding::Mono16);
    EXPECT_EQ(infer_encoding(DType::Float32, 1), Encoding::Mono32F);
    EXPECT_EQ(infer_encoding(DType::Float32, 3), Encoding::Rgb32F);
    EXPECT_FALSE(infer_encoding(DType::UInt8, 2));
    EXPECT_FALSE(infer_encoding(DType::UInt16, 3));
    EXPECT_FALSE(infer_encoding(DType::Float64, 1));
    EXPECT_FALSE(infer_encoding(DType::Int8, 1));
}

TEST(ElementAccess, RoundTripAndChecks) {
    std::byte buf[8] = {};
    for (DType d : {DType::Bool, DType::Int8, DType::Int16, DType::Int32, DType::Int64, DType::UInt8,
                    DType::UInt16, DType::UInt32, DType::UInt64, DType::Float32, DType::Float64}) {
        const double v = d == DType::Bool ? 1.0 : 100.0;
        check_element_value(d, v, "x");
        store_element(d, buf, v);
        EXPECT_EQ(load_element(d, buf), v) << dtype_name(d);
    }
    store_element(DType::Int8, buf, -128);
    EXPECT_EQ(load_element(DType::Int8, buf), -128);

    auto msg = error_of<InvalidArgument>([] { check_element_value(DType::UInt8, 256, "pixel"); });
    EXPECT_NE(msg.find("pixel = 256"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[0, 255]"), std::string::npos) << msg;
    msg = error_of<InvalidArgument>([] { check_element_value(DType::Int16, 1.5, "v"); });
    EXPECT_NE(msg.find("1.5"), std::string::npos) << msg;
    error_of<InvalidArgument>([] { check_element_value(DType::UInt8, -1, "v"); });
    error_of<InvalidArgument>([] { check_element_value(DType::UInt8, std::nan(""), "v"); });
    msg = error_of<InvalidArgument>([] { check_element_value(DType::Float32, 1e39, "v"); });
    EXPECT_NE(msg.find("float32"), std::string::npos) << msg;
    // Floats take NaN and infinities.
    check_element_value(DType::Float32, std::nan(""), "v");
    check_element_value(DType::Float32, INFINITY, "v");
    check_element_value(DType::Float64, 1e300, "v");
    error_of<TypeMismatch>([] { check_element_value(DType::Float16, 1, "v"); });
    error_of<TypeMismatch>([&] { load_element(DType::Float16, buf); });
}

TEST(PayloadBytes, SizesAndOverflow) {
    const uint64_t s1[] = {2, 3, 4};
    EXPECT_EQ(payload_bytes(s1, DType::Float64), 2u * 3 * 4 * 8);
    EXPECT_EQ(payload_bytes({}, DType::Int32), 4u) << "a 0-d tensor holds one element";
    const uint64_t s0[] = {5, 0, 7};
    EXPECT_EQ(payload_bytes(s0, DType::UInt8), 0u);
    const uint64_t huge[] = {1ull << 30, 1ull << 30};
    auto msg = error_of<InvalidArgument>([&] { payload_bytes(huge, DType::UInt8); });
    EXPECT_NE(msg.find("dimension 1"), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::to_string(1ull << 30)), std::string::npos) << msg;
    const uint64_t too_big_dim[] = {1ull << 51};
    error_of<InvalidArgument>([&] { payload_bytes(too_big_dim, DType::UInt8); });
    EXPECT_EQ(kind_name(MessageKind::PointCloud), "PointCloud");
}

}  // namespace

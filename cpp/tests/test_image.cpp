// test_image.cpp — Image: every encoding, pixel access, fill, copy_from, roi,
// metadata, sharing rules and bad-input errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "horus/base/error.hpp"
#include "horus/msg/image.hpp"
#include "horus/pool/pool.hpp"
#include "test_messages_common.hpp"

using namespace horus;

namespace {

using horus_test::error_of;

const Encoding kAll[] = {Encoding::Mono8,   Encoding::Mono16,  Encoding::Rgb8,       Encoding::Bgr8,
                         Encoding::Rgba8,   Encoding::Bgra8,   Encoding::Yuv422,     Encoding::Mono32F,
                         Encoding::Rgb32F,  Encoding::BayerRggb8, Encoding::Depth16};

TEST(Image, AllEncodingsShapeAndSizes) {
    const uint32_t channels[] = {1, 1, 3, 3, 4, 4, 2, 1, 3, 1, 1};
    const uint32_t bpp[] = {1, 2, 3, 3, 4, 4, 2, 4, 12, 1, 2};
    for (int i = 0; i < kEncodingCount; ++i) {
        const Encoding e = kAll[i];
        Image img(5, 7, e);
        SCOPED_TRACE(std::string(encoding_name(e)));
        EXPECT_EQ(img.height(), 5u);
        EXPECT_EQ(img.width(), 7u);
        EXPECT_EQ(img.encoding(), e);
        EXPECT_EQ(img.channels(), channels[i]);
        EXPECT_EQ(img.step(), 7u * bpp[i]);
        EXPECT_EQ(img.nbytes(), 5u * 7 * bpp[i]);
        EXPECT_EQ(img.kind(), MessageKind::Image);
        EXPECT_EQ(img.dtype(), encoding_info(e).dtype);
        if (channels[i] == 1) {
            ASSERT_EQ(img.ndim(), 2u);
        } else {
            ASSERT_EQ(img.ndim(), 3u);
            EXPECT_EQ(img.shape()[2], channels[i]);
        }
        EXPECT_EQ(img.shape()[0], 5u);
        EXPECT_EQ(img.shape()[1], 7u);
        EXPECT_EQ(reinterpret_cast<uintptr_t>(img.data()) % 64, 0u);
        EXPECT_FALSE(img.is_shared());
        EXPECT_TRUE(img.is_cpu());
        EXPECT_EQ(img.descriptor().block, img.block().ref());
        EXPECT_EQ(img.bytes().size(), img.nbytes());

        // Pixel round trip with values valid for every dtype.
        std::vector<double> px(channels[i]);
        for (uint32_t c = 0; c < channels[i]; ++c) px[c] = 10.0 + c;
        img.fill(std::vector<double>{0.0});
        img.set_pixel(6, 4, px);
        EXPECT_EQ(img.pixel(6, 4), px);
        EXPECT_EQ(img.pixel(0, 0), std::vector<double>(channels[i], 0.0));
        // The bytes sit where step/bpp say.
        const std::byte* p = img.data() + 4 * img.step() + 6 * bpp[i];
        EXPECT_NE(std::memcmp(p, std::vector<std::byte>(bpp[i]).data(), bpp[i]), 0);
    }
}

TEST(Image, FillPatterns) {
    Image rgb(3, 4, Encoding::Rgb8);
    rgb.fill(std::vector<double>{1, 2, 3});
    for (int y = 0; y < 3; ++y)
        for (int x = 0; x < 4; ++x) EXPECT_EQ(rgb.pixel(x, y), (std::vector<double>{1, 2, 3}));
    rgb.fill(std::vector<double>{9});  // one value for all channels
    EXPECT_EQ(rgb.pixel(3, 2), (std::vector<double>{9, 9, 9}));

    Image f(2, 3, Encoding::Rgb32F);
    f.fill(std::vector<double>{0.5, -1.25, 1e30});
    EXPECT_EQ(f.pixel(2, 1), (std::vector<double>{0.5, -1.25, static_cast<double>(1e30f)}));
    Image m16(2, 2, Encoding::Mono16);
    m16.fill(std::vector<double>{0x1234});
    EXPECT_EQ(m16.pixel(1, 1)[0], 0x1234);
    Image nan(1, 2, Encoding::Mono32F);
    nan.fill(std::vector<double>{NAN});
    EXPECT_TRUE(std::isnan(nan.pixel(1, 0)[0]));

    auto msg = error_of<InvalidArgument>([&] { rgb.fill(std::vector<double>{1, 2}); });
    EXPECT_HAS(msg, "2 values");
    EXPECT_HAS(msg, "rgb8");
    msg = error_of<InvalidArgument>([&] { rgb.fill(std::vector<double>{}); });
    EXPECT_HAS(msg, "0 values");
    msg = error_of<InvalidArgument>([&] { rgb.fill(std::vector<double>{1, 300, 3}); });
    EXPECT_HAS(msg, "300");
    EXPECT_HAS(msg, "channel 1");
    EXPECT_EQ(rgb.pixel(0, 0), (std::vector<double>{9, 9, 9})) << "a rejected fill changes nothing";
}

TEST(Image, PixelErrors) {
    Image img(4, 6, Encoding::Rgba8);
    img.fill(std::vector<double>{0});
    auto msg = error_of<OutOfRange>([&] { img.pixel(6, 0); });
    EXPECT_HAS(msg, "(6, 0)");
    EXPECT_HAS(msg, "0..5");
    msg = error_of<OutOfRange>([&] { img.pixel(0, -1); });
    EXPECT_HAS(msg, "(0, -1)");
    EXPECT_HAS(msg, "0..3");
    const std::vector<double> ok{1, 2, 3, 4};
    error_of<OutOfRange>([&] { img.set_pixel(-1, 0, ok); });
    error_of<OutOfRange>([&] { img.set_pixel(0, 4, ok); });
    msg = error_of<InvalidArgument>([&] { img.set_pixel(0, 0, std::vector<double>{1, 2, 3}); });
    EXPECT_HAS(msg, "3 values");
    EXPECT_HAS(msg, "4");
    msg = error_of<InvalidArgument>([&] { img.set_pixel(0, 0, std::vector<double>{1, 2, 3, -1}); });
    EXPECT_HAS(msg, "-1");
    msg = error_of<InvalidArgument>([&] { img.set_pixel(0, 0, std::vector<double>{1, 2.5, 3, 4}); });
    EXPECT_HAS(msg, "2.5");
    EXPECT_EQ(img.pixel(0, 0), (std::vector<double>{0, 0, 0, 0}));
}

TEST(Image, BadConstruction) {
    const uint64_t base = Pool::instance().stats().blocks_in_use;
    auto msg = error_of<InvalidArgument>([] { Image(0, 10, Encoding::Mono8); });
    EXPECT_HAS(msg, "height = 0");
    msg = error_of<InvalidArgument>([] { Image(10, -3, Encoding::Mono8); });
    EXPECT_HAS(msg, "width = -3");
    msg = error_of<InvalidArgument>([] { Image(Image::kMaxSide + 1, 1, Encoding::Mono8); });
    EXPECT_HAS(msg, std::to_string(Image::kMaxSide + 1));
    EXPECT_HAS(msg, std::to_string(Image::kMaxSide));
    msg = error_of<InvalidArgument>([] { Image(2, 2, static_cast<Encoding>(200)); });
    EXPECT_HAS(msg, "200");
    EXPECT_EQ(Pool::instance().stats().blocks_in_use, base) << "failed constructions leak no block";
}

TEST(Image, FromBytesAndCopyFrom) {
    std::vector<std::byte> src(2 * 3 * 3);
    for (std::size_t i = 0; i < src.size(); ++i) src[i] = std::byte(i);
    Image img = Image::from_bytes(src, 2, 3, Encoding::Bgr8);
    EXPECT_EQ(std::memcmp(img.data(), src.data(), src.size()), 0);
    EXPECT_EQ(img.pixel(1, 0), (std::vector<double>{3, 4, 5}));
    EXPECT_EQ(img.pixel(0, 1), (std::vector<double>{9, 10, 11}));

    auto msg = error_of<InvalidArgument>(
        [&] { Image::from_bytes(std::span(src).first(17), 2, 3, Encoding::Bgr8); });
    EXPECT_HAS(msg, "17 bytes");
    EXPECT_HAS(msg, "18");
    EXPECT_HAS(msg, "bgr8");
    error_of<InvalidArgument>([&] { Image::from_bytes(src, 0, 3, Encoding::Bgr8); });

    std::vector<std::byte> other(src.size(), std::byte{7});
    img.copy_from(other);
    EXPECT_EQ(img.pixel(2, 1), (std::vector<double>{7, 7, 7}));
    msg = error_of<InvalidArgument>([&] { img.copy_from(std::span(other).first(5)); });
    EXPECT_HAS(msg, "5 bytes");
    EXPECT_HAS(msg, "18");
}

TEST(Image, Roi) {
    Image img(4, 5, Encoding::Mono16);
    for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 5; ++x) img.set_pixel(x, y, std::vector<double>{double(y * 10 + x)});
    auto r = img.roi(1, 2, 3, 2);
    ASSERT_EQ(r.size(), 3u * 2 * 2);
    std::vector<uint16_t> v(6);
    std::memcpy(v.data(), r.data(), r.size());
    EXPECT_EQ(v, (std::vector<uint16_t>{21, 22, 23, 31, 32, 33}));
    EXPECT_EQ(img.roi(0, 0, 5, 4).size(), img.nbytes());
    auto msg = error_of<OutOfRange>([&] { img.roi(3, 0, 3, 1); });
    EXPECT_HAS(msg, "x=3");
    EXPECT_HAS(msg, "w=3");
    error_of<OutOfRange>([&] { img.roi(-1, 0, 1, 1); });
    error_of<OutOfRange>([&] { img.roi(0, 3, 1, 2); });
    msg = error_of<InvalidArgument>([&] { img.roi(0, 0, 0, 1); });
    EXPECT_HAS(msg, "0x1");
    error_of<InvalidArgument>([&] { img.roi(0, 0, 1, -2); });
}

TEST(Image, Metadata) {
    Image img(2, 2, Encoding::Mono8);
    EXPECT_EQ(img.frame_id(), "");
    EXPECT_EQ(img.timestamp_ns(), 0u);
    img.set_frame_id("camera_front");
    img.set_timestamp_ns(1234567890123ull);
    EXPECT_EQ(img.frame_id(), "camera_front");
    EXPECT_EQ(img.timestamp_ns(), 1234567890123ull);
    img.set_frame_id(std::string(63, 'a'));
    EXPECT_EQ(img.frame_id().size(), 63u);
    auto msg = error_of<InvalidArgument>([&] { img.set_frame_id(std::string(64, 'b')); });
    EXPECT_HAS(msg, "64 bytes");
    EXPECT_HAS(msg, "63");
    error_of<InvalidArgument>([&] { img.set_frame_id(std::string("a\0b", 3)); });
    EXPECT_EQ(img.frame_id(), std::string(63, 'a'));
    img.set_frame_id("x");
    EXPECT_EQ(img.frame_id(), "x") << "shorter ids overwrite all of the old one";
}

TEST(Image, CopyOfMessageSharesPayload) {
    const uint64_t base = Pool::instance().stats().blocks_in_use;
    Image a(3, 3, Encoding::Rgb8);
    a.fill(std::vector<double>{5});
    Image b = a;  // descriptor copy + reference, no pixel copy
    EXPECT_EQ(b.data(), a.data());
    EXPECT_EQ(Pool::instance().stats().blocks_in_use, base + 1);
    b.set_pixel(0, 0, std::vector<double>{1, 2, 3});
    EXPECT_EQ(a.pixel(0, 0), (std::vector<double>{1, 2, 3}));
}

TEST(Image, SharedIsReadOnlyAndCopyIsPrivate) {
    const uint64_t base = Pool::instance().stats().blocks_in_use;
    Image img(2, 3, Encoding::Rgb8);
    img.fill(std::vector<double>{1, 2, 3});
    img.set_frame_id("cam");
    img.set_timestamp_ns(42);
    img.mark_shared();
    EXPECT_TRUE(img.is_shared());
    const std::vector<std::byte> bytes(img.nbytes());
    auto msg = error_of<ReadOnlyError>([&] { img.set_pixel(0, 0, std::vector<double>{0, 0, 0}); });
    EXPECT_HAS(msg, "set_pixel");
    EXPECT_HAS(msg, "copy()");
    msg = error_of<ReadOnlyError>([&] { img.fill(std::vector<double>{0}); });
    EXPECT_HAS(msg, "fill");
    msg = error_of<ReadOnlyError>([&] { img.copy_from(bytes); });
    EXPECT_HAS(msg, "copy_from");
    msg = error_of<ReadOnlyError>([&] { img.mutable_data(); });
    EXPECT_HAS(msg, "mutable_data");
    error_of<ReadOnlyError>([&] { img.set_frame_id("x"); });
    error_of<ReadOnlyError>([&] { img.set_timestamp_ns(1); });
    // Reading still works.
    EXPECT_EQ(img.pixel(1, 1), (std::vector<double>{1, 2, 3}));
    EXPECT_EQ(img.roi(0, 0, 1, 1).size(), 3u);

    Image c = img.copy();
    EXPECT_FALSE(c.is_shared());
    EXPECT_NE(c.data(), img.data());
    EXPECT_NE(c.block().ref(), img.block().ref());
    EXPECT_EQ(c.descriptor().block, c.block().ref());
    EXPECT_EQ(std::memcmp(c.data(), img.data(), img.nbytes()), 0);
    EXPECT_EQ(c.frame_id(), "cam");
    EXPECT_EQ(c.timestamp_ns(), 42u);
    EXPECT_EQ(c.encoding(), Encoding::Rgb8);
    EXPECT_EQ(Pool::instance().stats().blocks_in_use, base + 2);
    c.set_pixel(0, 0, std::vector<double>{9, 9, 9});
    EXPECT_EQ(img.pixel(0, 0), (std::vector<double>{1, 2, 3}));
}

TEST(Image, FromDescriptorIsSharedView) {
    Image img(4, 4, Encoding::Mono8);
    img.fill(std::vector<double>{77});
    img.set_frame_id("f");
    Image rx = Image::from_descriptor(img.descriptor());
    EXPECT_TRUE(rx.is_shared());
    EXPECT_EQ(rx.data(), img.data());
    EXPECT_EQ(rx.frame_id(), "f");
    EXPECT_EQ(rx.pixel(3, 3)[0], 77);
    EXPECT_THROW(rx.set_pixel(0, 0, std::vector<double>{1}), ReadOnlyError);

    TensorDescriptor bad = img.descriptor();
    bad.kind = MessageKind::Tensor;
    auto msg = error_of<TypeMismatch>([&] { Image::from_descriptor(bad); });
    EXPECT_HAS(msg, "Tensor");
    EXPECT_HAS(msg, "Image");
    bad = img.descriptor();
    bad.encoding = 99;
    msg = error_of<ShmError>([&] { Image::from_descriptor(bad); });
    EXPECT_HAS(msg, "99");
    bad = img.descriptor();
    bad.nbytes += 1;
    error_of<ShmError>([&] { Image::from_descriptor(bad); });
    bad = img.descriptor();
    bad.encoding = static_cast<uint8_t>(Encoding::Rgb8);  // shape/dtype disagree with encoding
    error_of<ShmError>([&] { Image::from_descriptor(bad); });
    bad = img.descriptor();
    bad.frame_id[63] = 'z';  // unterminated frame id is cut, not overrun
    Image t = Image::from_descriptor(bad);
    EXPECT_LE(t.frame_id().size(), 63u);

    // A stale descriptor (block freed) is rejected.
    TensorDescriptor d = img.descriptor();
    img = Image(1, 1, Encoding::Mono8);
    rx = Image(1, 1, Encoding::Mono8);
    t = Image(1, 1, Encoding::Mono8);
    EXPECT_THROW(Image::from_descriptor(d), StaleReference);
}

TEST(Image, ViewOfExistingBlock) {
    Block b = Pool::instance().allocate(1024);
    Image img(4, 4, Encoding::Rgb8, b, 64);
    EXPECT_EQ(img.data(), b.data() + 64);
    EXPECT_EQ(img.descriptor().offset, 64u);
    img.fill(std::vector<double>{3});
    EXPECT_EQ(b.data()[64], std::byte{3});
    auto msg = error_of<ShmError>([&] { Image(20, 20, Encoding::Rgb8, b, 0); });
    EXPECT_HAS(msg, "1200");
    EXPECT_HAS(msg, "1024");
    error_of<ShmError>([&] { Image(1, 1, Encoding::Mono8, b, 1024); });
    error_of<ShmError>([&] { Image(1, 1, Encoding::Mono8, b, ~uint64_t{0}); });
    error_of<InvalidArgument>([&] { Image(1, 1, Encoding::Mono8, Block{}, 0); });
}

}  // namespace

// test_record.cpp — typed messages in C++: HORUS_MESSAGE layouts and hashes, the
// standard set, Topic<T> of records (inline and pooled), type mismatches, corrupt
// records, Tensors of records.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "horus/horus.hpp"
#include "horus/session/namespace_name.hpp"
#include "horus/topic/topic_layout.hpp"
#include "test_util.hpp"

namespace {

HORUS_MESSAGE(BatteryState, (float, voltage), (float, current), (horus::Array<float, 8>, cell_voltages),
              (bool, charging), (horus::String<16>, name));

// Same name, other layout: a different topic type.
namespace other {
HORUS_MESSAGE(BatteryState, (double, voltage), (bool, charging));
}

HORUS_MESSAGE(Padded, (uint8_t, a), (double, b), (uint16_t, c));
HORUS_MESSAGE(Matrix, (horus::Array<double, 3, 3>, m), (horus::Float16, h), (int64_t, n));
HORUS_MESSAGE(Outer, (uint8_t, tag), (horus::msg::Point, where), (horus::Array<horus::String<4>, 3>, names));

std::string unique(const std::string& base) { return base + "_" + std::to_string(::getpid()); }

}  // namespace

TEST(Record, LayoutFollowsTheCRules) {
    const horus::RecordLayout& l = BatteryState::horus_layout();
    EXPECT_EQ(l.name(), "BatteryState");
    EXPECT_EQ(l.size(), sizeof(BatteryState));
    EXPECT_EQ(l.size(), 60u);
    ASSERT_EQ(l.fields().size(), 5u);
    EXPECT_EQ(l.fields()[2].name, "cell_voltages");
    EXPECT_EQ(l.fields()[2].offset, offsetof(BatteryState, cell_voltages));
    EXPECT_EQ(l.fields()[4].offset, offsetof(BatteryState, name));
    EXPECT_EQ(l.text(),
              "BatteryState{voltage:float32@0,current:float32@4,cell_voltages:float32[8]@8,charging:bool@40,"
              "name:string<16>@41}60");
    EXPECT_EQ(l.hash(), horus::layout_hash_of(l.text()));
    EXPECT_EQ(BatteryState::layout_hash(), l.hash());
    EXPECT_NE(other::BatteryState::layout_hash(), BatteryState::layout_hash());
    EXPECT_EQ(Padded::horus_layout().size(), 24u);
    EXPECT_EQ(Padded::horus_layout().fields()[2].offset, 16u);
    EXPECT_EQ(Matrix::horus_layout().text(), "Matrix{m:float64[3][3]@0,h:float16@72,n:int64@80}88");
    EXPECT_EQ(Outer::horus_layout().fields()[1].offset, offsetof(Outer, where));
    EXPECT_EQ(Outer::horus_layout().fields()[2].type_text(), "string<4>[3]");
    EXPECT_NE(Outer::horus_layout().text().find("where:Point#"), std::string::npos);
}

TEST(Record, MembersStartAtZeroAndCompareByValue) {
    BatteryState b{};
    EXPECT_EQ(b.voltage, 0.0f);
    EXPECT_EQ(b.name.view(), "");
    BatteryState c{12.4f};
    EXPECT_EQ(c.voltage, 12.4f);
    EXPECT_NE(b, c);
    c.name = "pack-a";
    EXPECT_EQ(c.name.view(), "pack-a");
    c.name = "exactly16bytes!!";
    EXPECT_EQ(c.name.view(), "exactly16bytes!!");
    EXPECT_THROW(c.name = "seventeen bytes!!", horus::InvalidArgument);
    EXPECT_THROW(c.name.assign(std::string_view("a\0b", 3)), horus::InvalidArgument);
    EXPECT_THROW(c.name = "\xff", horus::InvalidArgument);
    Matrix m{};
    m.m(1, 2) = 5.0;
    EXPECT_EQ(m.m[5], 5.0);
}

TEST(Record, Float16RoundTripsAndRefusesOutOfRange) {
    for (double v : {0.0, 1.0, -2.5, 65504.0, 0.000061035, 1e-7})
        EXPECT_NEAR(horus::Float16::from_double(v).to_double(), v, std::abs(v) * 1e-3 + 1e-7) << v;
    EXPECT_THROW(horus::Float16::from_double(70000.0), horus::InvalidArgument);
    EXPECT_TRUE(std::isinf(horus::Float16::from_double(INFINITY).to_double()));
    EXPECT_TRUE(std::isnan(horus::Float16::from_double(NAN).to_double()));
    EXPECT_EQ(horus::Float16::from_double(1.0).bits, 0x3C00);
}

TEST(Record, BadDeclarationsAreRefused) {
    std::vector<horus::FieldSpec> f(1);
    f[0].name = "x";
    EXPECT_THROW(horus::RecordLayout::make("9bad", f), horus::InvalidArgument);
    EXPECT_THROW(horus::RecordLayout::make("Empty", {}), horus::InvalidArgument);
    auto twice = f;
    twice.push_back(f[0]);
    EXPECT_THROW(horus::RecordLayout::make("Twice", twice), horus::InvalidArgument);
    auto wrong = f;
    wrong[0].offset = 4;
    EXPECT_THROW(horus::RecordLayout::make("Wrong", wrong), horus::InvalidArgument);
    EXPECT_THROW(horus::RecordLayout::make("Size", f, 8), horus::InvalidArgument);
    auto zero = f;
    zero[0].dims = {0};
    EXPECT_THROW(horus::RecordLayout::make("Zero", zero), horus::InvalidArgument);
    auto huge = f;
    huge[0].dims = {1u << 20, 1u << 20};
    EXPECT_THROW(horus::RecordLayout::make("Huge", huge), horus::InvalidArgument);
}

TEST(Record, StandardMessagesAreListed) {
    const auto all = horus::msg::standard_message_layouts();
    EXPECT_GE(all.size(), 17u);
    EXPECT_EQ(horus::msg::CmdVel::horus_layout().size(), 8u);
    EXPECT_EQ(horus::find_record_layout(horus::msg::Imu::layout_hash()).get(), &horus::msg::Imu::horus_layout());
}

TEST(RecordTopic, SmallMessagesTravelInlineWithTheirMetadata) {
    const std::string name = unique("rec_inline");
    horus::Topic<BatteryState> pub(name), sub(name);
    BatteryState b{12.4f, -1.5f};
    b.cell_voltages[0] = 3.9f;
    b.charging = true;
    b.name = "pack-a";
    const auto before = horus::Pool::instance().stats().blocks_in_use;
    pub.send(horus::Stamped<BatteryState>{b, 42, "base_link"});
    EXPECT_EQ(horus::Pool::instance().stats().blocks_in_use, before);  // no pool block
    auto got = sub.try_recv();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->value, b);
    EXPECT_EQ(got->timestamp_ns, 42u);
    EXPECT_EQ(got->frame_id, "base_link");
    EXPECT_FALSE(sub.try_recv());
    b.voltage = 1.0f;  // value semantics: the sent message is a copy
    pub.send(b);
    EXPECT_EQ(sub.try_recv()->value.voltage, 1.0f);
}

TEST(RecordTopic, BigMessagesTravelInAPoolBlockAndAreReleased) {
    const std::string name = unique("rec_pooled");
    horus::Topic<horus::msg::LaserScan> pub(name, 2), sub(name);
    const auto before = horus::Pool::instance().stats().blocks_in_use;
    for (uint32_t k = 0; k < 5; ++k) {
        horus::msg::LaserScan s{};
        s.count = k;
        s.ranges[2047] = static_cast<float>(k);
        pub.send(s);
        auto got = sub.try_recv();
        ASSERT_TRUE(got);
        EXPECT_EQ(got->value.count, k);
        EXPECT_EQ(got->value.ranges[2047], static_cast<float>(k));
    }
    EXPECT_LE(horus::Pool::instance().stats().blocks_in_use, before + 2);
}

TEST(RecordTopic, AnotherLayoutUnderTheSameNameIsRefused) {
    const std::string name = unique("rec_mismatch");
    horus::Topic<BatteryState> t(name);
    try {
        horus::Topic<other::BatteryState> u(name);
        FAIL() << "opened a topic of another layout";
    } catch (const horus::TypeMismatch& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find(name), std::string::npos) << what;
        EXPECT_NE(what.find(BatteryState::horus_layout().text()), std::string::npos) << what;
        EXPECT_NE(what.find(other::BatteryState::horus_layout().text()), std::string::npos) << what;
    }
    EXPECT_THROW(horus::Topic<horus::Image> i(name), horus::TypeMismatch);
    // In another process too.
    const int rc = horus_test::run_in_child([&] {
        try {
            horus::Topic<other::BatteryState> u(name);
        } catch (const horus::TypeMismatch&) {
            return 0;
        }
        return 1;
    });
    EXPECT_EQ(rc, 0);
}

TEST(RecordTopic, PaddingIsZeroedOnTheWire) {
    const std::string name = unique("rec_padding");
    horus::Topic<Padded> pub(name), sub(name);
    Padded p;
    std::memset(static_cast<void*>(&p), 0xAB, sizeof p);  // garbage in the padding
    p.a = 1;
    p.b = 2.0;
    p.c = 3;
    pub.send(p);
    auto got = sub.try_recv();
    ASSERT_TRUE(got);
    const auto* bytes = reinterpret_cast<const unsigned char*>(&got->value);
    for (std::size_t i = 1; i < 8; ++i) EXPECT_EQ(bytes[i], 0) << i;
    for (std::size_t i = 18; i < 24; ++i) EXPECT_EQ(bytes[i], 0) << i;
}

TEST(RecordTopic, ARecordWithAnInvalidBoolIsSkippedAndCounted) {
    const std::string name = unique("rec_badbool");
    horus::Topic<BatteryState> pub(name), sub(name);
    BatteryState b{};
    pub.send(b);
    // Corrupt the slot's charging byte as a foreign writer could.
    horus::ShmObject seg = horus::ShmObject::open_existing(horus::shm_name("topic." + name));
    auto* slot = reinterpret_cast<horus::topic_layout::TopicSlot*>(static_cast<std::byte*>(seg.data()) +
                                                                   sizeof(horus::topic_layout::TopicHeader));
    auto d = horus::bytes_descriptor_of(*reinterpret_cast<horus::TensorDescriptor*>(slot[0].words));
    ASSERT_EQ(d.storage, horus::PayloadStorage::Inline);
    d.inline_payload[40] = std::byte{7};
    const horus::TensorDescriptor w = horus::to_wire(d);
    std::memcpy(slot[0].words, &w, sizeof w);
    EXPECT_FALSE(sub.try_recv());
    EXPECT_EQ(sub.dropped(), 1u);
}

TEST(RecordTensor, OfRecordsAndTypedTopics) {
    const std::string name = unique("rec_tensor");
    horus::Topic<horus::Tensor> pub(name), sub(name);
    horus::Tensor t = horus::Tensor::of<horus::msg::Detection2D>(3);
    t.mutable_records<horus::msg::Detection2D>()[1].score = 0.5f;
    EXPECT_THROW(t.records<horus::msg::Detection3D>(), horus::TypeMismatch);
    pub.send(t);
    auto got = sub.try_recv();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->record_hash(), horus::msg::Detection2D::layout_hash());
    EXPECT_EQ(got->records<horus::msg::Detection2D>().size(), 3u);
    EXPECT_EQ(got->records<horus::msg::Detection2D>()[1].score, 0.5f);
    const uint64_t shape[1] = {4};
    horus::Tensor plain(shape, horus::DType::Float32);
    EXPECT_THROW(pub.send(plain), horus::TypeMismatch);
    horus::Tensor wrong = horus::Tensor::of<horus::msg::Detection3D>(1);
    EXPECT_THROW(pub.send(wrong), horus::TypeMismatch);
    const uint64_t bad_shape[2] = {2, 5};
    horus::Tensor u8(bad_shape, horus::DType::UInt8);
    EXPECT_THROW(u8.set_record_layout(horus::msg::Detection2D::horus_layout().shared_from_this()),
                 horus::InvalidArgument);
}

TEST(RecordNode, NodesSendAndReceiveTypedMessages) {
    const std::string name = unique("rec_node");
    horus::Node a({.name = "a", .tick = [](horus::Node&) {}, .subs = {name}});
    horus::Node b({.name = "b", .tick = [](horus::Node&) {}, .subs = {name}});
    a.send(name, horus::msg::CmdVel{1.5f, -0.5f});
    auto got = b.recv<horus::msg::CmdVel>(name);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->value.linear, 1.5f);
    EXPECT_THROW(b.recv<horus::msg::Pose2D>(name), horus::TypeMismatch);
    a.send(name, horus::msg::CmdVel{});
    EXPECT_THROW(b.recv<horus::Image>(name), horus::TypeMismatch);  // a message is there, of another kind
}

namespace {
HORUS_MESSAGE(FourD, (horus::Array<float, 2, 2, 2, 2>, x), (uint8_t, tail));
#define HORUS_TEST_F10(p) (uint8_t, p##0), (uint8_t, p##1), (uint8_t, p##2), (uint8_t, p##3), (uint8_t, p##4), \
    (uint8_t, p##5), (uint8_t, p##6), (uint8_t, p##7), (uint8_t, p##8), (uint8_t, p##9)
HORUS_MESSAGE(Wide, HORUS_TEST_F10(a), HORUS_TEST_F10(b), HORUS_TEST_F10(c), HORUS_TEST_F10(d), HORUS_TEST_F10(e),
              HORUS_TEST_F10(f), HORUS_TEST_F10(g), HORUS_TEST_F10(h), HORUS_TEST_F10(i), HORUS_TEST_F10(j),
              HORUS_TEST_F10(k), HORUS_TEST_F10(l), HORUS_TEST_F10(m), HORUS_TEST_F10(n), HORUS_TEST_F10(o));
#undef HORUS_TEST_F10
}  // namespace

TEST(Record, FourDimensionalArraysAndWideMessagesDeclare) {
    EXPECT_EQ(FourD::horus_layout().fields()[0].type_text(), "float32[2][2][2][2]");
    EXPECT_EQ(FourD::horus_layout().size(), 68u);
    EXPECT_EQ(Wide::horus_layout().fields().size(), 150u);
    EXPECT_EQ(Wide::horus_layout().fields()[149].name, "o9");
}

// fuzz_descriptor.cpp — (a) arbitrary bytes as a TensorDescriptor.
//
// A descriptor read from a topic slot is written by another process. The input
// is: 1 byte selecting the message type and entry point, 176 bytes of
// descriptor, then coordinates for the accessors. The descriptor goes through
// X::received(desc, block) (with a real block, as try_read does) and
// X::from_descriptor(desc) (which acquires desc.block itself); on success every
// read accessor runs over the payload, so ASan catches a payload that reaches
// past its block.
#include <cstdint>
#include <vector>

#include "fuzz_common.hpp"
#include "horus/msg/depth_image.hpp"
#include "horus/base/error.hpp"
#include "horus/msg/image.hpp"
#include "horus/msg/point_cloud.hpp"
#include "horus/pool/pool.hpp"
#include "horus/msg/tensor.hpp"
#include "horus/msg/bytes_message.hpp"
#include "horus/msg/standard_messages.hpp"

using namespace horus;

namespace {

volatile uint64_t g_sink;

void touch(const Message& m) {
    // Read every payload byte: out-of-bounds reads show up under ASan.
    uint64_t acc = 0;
    for (std::byte b : m.bytes()) acc += static_cast<uint8_t>(b);
    g_sink = acc + m.frame_id().size() + m.ndim();
}

template <typename F>
void guarded(F&& f) {
    try {
        f();
    } catch (const horus::Error&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    horus_fuzz::set_private_namespace("descriptor");
    std::atexit([] { horus_fuzz::unlink_namespace(); });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    horus_fuzz::Input in(data, size);
    const uint8_t sel = in.take<uint8_t>();
    TensorDescriptor d;
    std::memset(&d, 0, sizeof d);
    in.take_bytes(&d, sizeof d);
    const int64_t x = in.take<int32_t>(), y = in.take<int32_t>();
    const int64_t w = in.take<int16_t>(), h = in.take<int16_t>();

    Pool& pool = Pool::instance();
    // A real block of the size the input asks for (capped), so received() sees a
    // valid handle whose capacity may be smaller than the descriptor claims.
    const std::size_t want = (in.take<uint16_t>() % 8192) + 1;
    Block block;
    guarded([&] { block = pool.allocate(want); });
    if (!block) return 0;
    if (sel & 0x10) d.block = block.ref();  // make the reference valid half of the time

    if (sel & 0x20) {
        // A typed message or schemaless data (bytes_descriptor.hpp): kind, storage, size
        // and offset come from the input; received() must refuse what is outside its block.
        BytesDescriptor b = bytes_descriptor_of(d);
        b.kind = (sel & 0x40) ? MessageKind::Data : MessageKind::Record;
        if (sel & 0x10) b.pooled.block = block.ref();
        guarded([&] {
            BytesMessage m = BytesMessage::received(to_wire(b), b.storage == PayloadStorage::Pooled ? block : Block());
            uint64_t acc = 0;
            for (std::byte c : m.payload()) acc += static_cast<uint8_t>(c);
            const RecordLayout& l = msg::BatteryState::horus_layout();
            if (m.desc.size == l.size()) acc += l.valid(m.data()) ? 1 : 0;
            g_sink = acc;
        });
        return 0;
    }

    const bool from_desc = sel & 0x08;
    switch (sel % 4) {
        case 0:
            guarded([&] {
                Image m = from_desc ? Image::from_descriptor(d) : Image::received(d, block);
                touch(m);
                guarded([&] { g_sink = m.pixel(x, y).size(); });
                guarded([&] { g_sink = m.roi(x, y, w, h).size(); });
                g_sink = m.step() + m.channels();
            });
            break;
        case 1:
            guarded([&] {
                DepthImage m = from_desc ? DepthImage::from_descriptor(d) : DepthImage::received(d, block);
                touch(m);
                guarded([&] { g_sink = static_cast<uint64_t>(m.get_depth(x, y)); });
                guarded([&] {
                    auto s = m.depth_statistics();
                    g_sink = s ? 1 : 0;
                });
            });
            break;
        case 2:
            guarded([&] {
                PointCloud m = from_desc ? PointCloud::from_descriptor(d) : PointCloud::received(d, block);
                touch(m);
                guarded([&] { g_sink = m.point_at(x).size(); });
                g_sink = m.point_count() + m.fields_per_point();
            });
            break;
        default:
            guarded([&] {
                Tensor m = from_desc ? Tensor::from_descriptor(d) : Tensor::received(d, block);
                touch(m);
                guarded([&] { g_sink = m.copy().nbytes(); });
            });
            break;
    }
    return 0;
}

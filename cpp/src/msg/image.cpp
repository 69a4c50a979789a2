// image.cpp — camera image message (see image.hpp).
#include "horus/msg/image.hpp"

#include <cstring>

#include "horus/msg/element_access.hpp"
#include "horus/base/error.hpp"
#include "horus/pool/pool.hpp"

namespace horus {
namespace {

TensorDescriptor image_descriptor(int64_t h, int64_t w, Encoding e, uint64_t offset) {
    TensorDescriptor d = describe_payload(MessageKind::Image, encoding_info(e).dtype, image_shape(h, w, e), offset);
    d.encoding = static_cast<uint8_t>(e);
    return d;
}

}  // namespace

std::vector<uint64_t> image_shape(int64_t height, int64_t width, Encoding encoding) {
    const auto& info = encoding_info(encoding);
    if (height < 1 || height > Image::kMaxSide)
        throw InvalidArgument("height = " + std::to_string(height) + " is out of range; expected 1.." +
                              std::to_string(Image::kMaxSide));
    if (width < 1 || width > Image::kMaxSide)
        throw InvalidArgument("width = " + std::to_string(width) + " is out of range; expected 1.." +
                              std::to_string(Image::kMaxSide));
    std::vector<uint64_t> shape{static_cast<uint64_t>(height), static_cast<uint64_t>(width)};
    if (info.channels > 1) shape.push_back(info.channels);
    return shape;
}

Image::Image(int64_t height, int64_t width, Encoding encoding)
    : Message(MessageKind::Image, encoding_info(encoding).dtype, image_shape(height, width, encoding)) {
    desc_.encoding = static_cast<uint8_t>(encoding);
}

Image::Image(int64_t height, int64_t width, Encoding encoding, Block block, uint64_t offset)
    : Message(image_descriptor(height, width, encoding, offset), std::move(block), false) {}

Image Image::from_bytes(std::span<const std::byte> data, int64_t height, int64_t width,
                        Encoding encoding) {
    auto shape = image_shape(height, width, encoding);
    uint64_t need = payload_bytes(shape, encoding_info(encoding).dtype);
    if (data.size() != need)
        throw InvalidArgument("from_bytes got " + std::to_string(data.size()) + " bytes; a " +
                              std::to_string(width) + "x" + std::to_string(height) + " " +
                              std::string(encoding_name(encoding)) + " image needs exactly " +
                              std::to_string(need));
    Image img(height, width, encoding);
    std::memcpy(img.mutable_data(), data.data(), need);
    return img;
}

Image Image::from_descriptor(const TensorDescriptor& desc) {
    const TensorDescriptor d = validate(desc, MessageKind::Image);
    return received(d, Pool::instance().acquire(d.block));
}

Image Image::received(const TensorDescriptor& desc, Block b) {
    const TensorDescriptor d = validate(desc, MessageKind::Image);
    if (d.encoding >= kEncodingCount)
        throw ShmError("corrupt Image descriptor: encoding code " + std::to_string(d.encoding));
    const auto shape = image_shape(static_cast<int64_t>(d.shape[0]), static_cast<int64_t>(d.shape[1]),
                                   static_cast<Encoding>(d.encoding));
    // Every dimension must match the encoding, the channel count included: a
    // descriptor with shape (H, W, 0) has nbytes 0 and passes the block bounds
    // check, yet pixel()/roi() index H x W x bytes_per_pixel (found by fuzz_descriptor).
    bool dims_match = d.ndim == shape.size();
    for (std::size_t i = 0; dims_match && i < shape.size(); ++i) dims_match = d.shape[i] == shape[i];
    if (!dims_match || d.dtype != encoding_info(static_cast<Encoding>(d.encoding)).dtype)
        throw ShmError("corrupt Image descriptor: shape/dtype do not match its encoding");
    return Image(d, std::move(b), true);
}

Image Image::copy() const {
    auto [d, b] = copy_payload();
    return Image(d, std::move(b), false);
}

uint32_t Image::channels() const { return encoding_info(encoding()).channels; }

std::size_t Image::step() const { return std::size_t{width()} * encoding_info(encoding()).bytes_per_pixel; }

std::size_t Image::pixel_offset(int64_t x, int64_t y) const {
    if (x < 0 || x >= width() || y < 0 || y >= height())
        throw OutOfRange("pixel (" + std::to_string(x) + ", " + std::to_string(y) +
                         ") is outside the " + std::to_string(width()) + "x" +
                         std::to_string(height()) + " image; valid x: 0.." +
                         std::to_string(width() - 1) + ", y: 0.." + std::to_string(height() - 1));
    return static_cast<std::size_t>(y) * step() +
           static_cast<std::size_t>(x) * encoding_info(encoding()).bytes_per_pixel;
}

std::vector<double> Image::pixel(int64_t x, int64_t y) const {
    const std::byte* p = data() + pixel_offset(x, y);
    const std::size_t item = dtype_size(dtype());
    std::vector<double> out(channels());
    for (uint32_t c = 0; c < channels(); ++c) out[c] = load_element(dtype(), p + c * item);
    return out;
}

void Image::check_values(std::span<const double> values, const char* what) const {
    if (values.size() != channels())
        throw InvalidArgument(std::string(what) + " got " + std::to_string(values.size()) +
                              " values; a " + std::string(encoding_name(encoding())) +
                              " pixel has " + std::to_string(channels()));
    for (std::size_t c = 0; c < values.size(); ++c)
        check_element_value(dtype(), values[c],
                            std::string(what) + " channel " + std::to_string(c));
}

void Image::set_pixel(int64_t x, int64_t y, std::span<const double> values) {
    require_writable("set_pixel");
    check_values(values, "set_pixel");
    std::byte* p = mutable_data() + pixel_offset(x, y);
    const std::size_t item = dtype_size(dtype());
    for (uint32_t c = 0; c < channels(); ++c) store_element(dtype(), p + c * item, values[c]);
}

void Image::fill(std::span<const double> values) {
    require_writable("fill");
    std::vector<double> v(values.begin(), values.end());
    if (v.size() == 1 && channels() > 1) v.assign(channels(), v[0]);
    check_values(v, "fill");
    const std::size_t bpp = encoding_info(encoding()).bytes_per_pixel;
    const std::size_t item = dtype_size(dtype());
    std::byte pattern[16];
    for (uint32_t c = 0; c < channels(); ++c) store_element(dtype(), pattern + c * item, v[c]);
    std::byte* out = mutable_data();
    const std::size_t n = std::size_t{width()} * height();
    bool uniform = true;
    for (std::size_t i = 1; i < bpp; ++i) uniform = uniform && pattern[i] == pattern[0];
    if (uniform) {
        std::memset(out, static_cast<int>(pattern[0]), n * bpp);
        return;
    }
    // Write the first row pixel by pixel, then replicate it row by row.
    for (std::size_t i = 0; i < width(); ++i) std::memcpy(out + i * bpp, pattern, bpp);
    for (std::size_t r = 1; r < height(); ++r) std::memcpy(out + r * step(), out, step());
}

void Image::copy_from(std::span<const std::byte> data) {
    require_writable("copy_from");
    if (data.size() != nbytes())
        throw InvalidArgument("copy_from got " + std::to_string(data.size()) + " bytes; this " +
                              std::to_string(width()) + "x" + std::to_string(height()) + " " +
                              std::string(encoding_name(encoding())) + " image holds exactly " +
                              std::to_string(nbytes()));
    std::memcpy(mutable_data(), data.data(), data.size());
}

std::vector<std::byte> Image::roi(int64_t x, int64_t y, int64_t w, int64_t h) const {
    if (w < 1 || h < 1)
        throw InvalidArgument("roi size " + std::to_string(w) + "x" + std::to_string(h) +
                              " is empty; w and h must be >= 1");
    if (x < 0 || y < 0 || x > int64_t{width()} - w || y > int64_t{height()} - h)
        throw OutOfRange("roi x=" + std::to_string(x) + " y=" + std::to_string(y) + " w=" +
                         std::to_string(w) + " h=" + std::to_string(h) + " is outside the " +
                         std::to_string(width()) + "x" + std::to_string(height()) +
                         " image (need 0 <= x, x + w <= " + std::to_string(width()) +
                         ", 0 <= y, y + h <= " + std::to_string(height()) + ")");
    const std::size_t bpp = encoding_info(encoding()).bytes_per_pixel;
    const std::size_t row = static_cast<std::size_t>(w) * bpp;
    std::vector<std::byte> out(row * static_cast<std::size_t>(h));
    for (int64_t r = 0; r < h; ++r)
        std::memcpy(out.data() + static_cast<std::size_t>(r) * row,
                    data() + static_cast<std::size_t>(y + r) * step() + static_cast<std::size_t>(x) * bpp,
                    row);
    return out;
}

}  // namespace horus

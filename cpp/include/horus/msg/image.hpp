// image.hpp — Image: a pool-backed camera image of one of the spec's encodings.
//
// Payload: height rows of width pixels, C-contiguous; step = width * bytes per
// pixel. Shape is (H, W) for 1-channel encodings, (H, W, C) otherwise.
// Pixel values travel as doubles and are range-checked against the dtype.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "horus/msg/encoding.hpp"
#include "horus/msg/message.hpp"

namespace horus {

class Image : public Message {
  public:
    static constexpr int64_t kMaxSide = 1 << 20;

    /// height, width in [1, 2^20]; contents unspecified (like numpy.empty) — use fill().
    Image(int64_t height, int64_t width, Encoding encoding);
    /// An Image viewing `block` at `offset` (zero-copy).
    Image(int64_t height, int64_t width, Encoding encoding, Block block, uint64_t offset);
    /// A new Image holding a copy of `data` (exactly height*width*bytes_per_pixel bytes).
    static Image from_bytes(std::span<const std::byte> data, int64_t height, int64_t width,
                            Encoding encoding);
    static Image from_descriptor(const TensorDescriptor& desc);
    /// A received Image over `block` (already acquired for `desc.block`); shared, read-only.
    static Image received(const TensorDescriptor& desc, Block block);
    Image copy() const;

    uint32_t height() const { return static_cast<uint32_t>(desc_.shape[0]); }
    uint32_t width() const { return static_cast<uint32_t>(desc_.shape[1]); }
    Encoding encoding() const { return static_cast<Encoding>(desc_.encoding); }
    uint32_t channels() const;
    std::size_t step() const;

    /// Channel values of pixel (x, y); OutOfRange outside the image.
    std::vector<double> pixel(int64_t x, int64_t y) const;
    /// Sets pixel (x, y); exactly channels() values, each valid for the dtype.
    void set_pixel(int64_t x, int64_t y, std::span<const double> values);
    /// Sets every pixel to `values` (channels() values, or one value for all channels).
    void fill(std::span<const double> values);
    /// Overwrites the payload with `data` (exactly nbytes() bytes).
    void copy_from(std::span<const std::byte> data);
    /// The bytes of the region [x, x+w) x [y, y+h), rows concatenated.
    std::vector<std::byte> roi(int64_t x, int64_t y, int64_t w, int64_t h) const;

  private:
    Image(const TensorDescriptor& desc, Block block, bool shared)
        : Message(desc, std::move(block), shared) {}
    std::size_t pixel_offset(int64_t x, int64_t y) const;
    void check_values(std::span<const double> values, const char* what) const;
};

/// Shape of an image: (h, w) or (h, w, c). Validates sizes (InvalidArgument).
std::vector<uint64_t> image_shape(int64_t height, int64_t width, Encoding encoding);

}  // namespace horus

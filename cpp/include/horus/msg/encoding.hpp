// encoding.hpp — the pixel encodings of Image.
//
// The table is the spec's: name, channels, bytes per pixel and element dtype.
// yuv422 is stored as 2 uint8 channels per pixel (packed YUYV/UYVY samples).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "horus/msg/dtype.hpp"

namespace horus {

enum class Encoding : uint8_t {
    Mono8 = 0,
    Mono16,
    Rgb8,
    Bgr8,
    Rgba8,
    Bgra8,
    Yuv422,
    Mono32F,
    Rgb32F,
    BayerRggb8,
    Depth16,
};

inline constexpr int kEncodingCount = 11;

struct EncodingInfo {
    Encoding encoding;
    std::string_view name;        // "rgb8"
    uint32_t channels;            // 3
    uint32_t bytes_per_pixel;     // 3
    DType dtype;                  // element type of one channel
};

const EncodingInfo& encoding_info(Encoding e);

inline std::string_view encoding_name(Encoding e) { return encoding_info(e).name; }

/// Parses an encoding name; throws InvalidArgument listing the valid names.
Encoding parse_encoding(std::string_view name);

/// Comma-separated list of the valid encoding names.
std::string encoding_names();

/// The encoding implied by an array of this dtype and channel count, if any:
/// uint8 1/3/4 -> mono8/rgb8/rgba8, uint16 1 -> mono16, float32 1/3 -> mono32f/rgb32f.
std::optional<Encoding> infer_encoding(DType dtype, uint32_t channels);

}  // namespace horus

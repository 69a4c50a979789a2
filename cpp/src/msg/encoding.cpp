// encoding.cpp — the spec's encoding table (see encoding.hpp).
#include "horus/msg/encoding.hpp"

#include <array>

#include "horus/base/error.hpp"

namespace horus {
namespace {

constexpr std::array<EncodingInfo, kEncodingCount> kTable = {{
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
}};

}  // namespace

const EncodingInfo& encoding_info(Encoding e) {
    auto i = static_cast<std::size_t>(e);
    if (i >= kTable.size()) throw InvalidArgument("corrupt encoding code " + std::to_string(i));
    return kTable[i];
}

std::string encoding_names() {
    std::string out;
    for (const auto& info : kTable) {
        if (!out.empty()) out += ", ";
        out += info.name;
    }
    return out;
}

Encoding parse_encoding(std::string_view name) {
    for (const auto& info : kTable)
        if (info.name == name) return info.encoding;
    throw InvalidArgument("unknown encoding '" + std::string(name) +
                          "'; valid encodings: " + encoding_names());
}

std::optional<Encoding> infer_encoding(DType dtype, uint32_t channels) {
    if (dtype == DType::UInt8) {
        if (channels == 1) return Encoding::Mono8;
        if (channels == 3) return Encoding::Rgb8;
        if (channels == 4) return Encoding::Rgba8;
    } else if (dtype == DType::UInt16 && channels == 1) {
        return Encoding::Mono16;
    } else if (dtype == DType::Float32) {
        if (channels == 1) return Encoding::Mono32F;
        if (channels == 3) return Encoding::Rgb32F;
    }
    return std::nullopt;
}

}  // namespace horus

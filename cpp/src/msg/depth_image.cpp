// depth_image.cpp — depth image message (see depth_image.hpp).
#include "horus/msg/depth_image.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "horus/base/error.hpp"
#include "horus/pool/pool.hpp"

namespace horus {
namespace {

std::vector<uint64_t> depth_shape(int64_t h, int64_t w) {
    if (h < 1 || h > DepthImage::kMaxSide)
        throw InvalidArgument("height = " + std::to_string(h) + " is out of range; expected 1.." +
                              std::to_string(DepthImage::kMaxSide));
    if (w < 1 || w > DepthImage::kMaxSide)
        throw InvalidArgument("width = " + std::to_string(w) + " is out of range; expected 1.." +
                              std::to_string(DepthImage::kMaxSide));
    return {static_cast<uint64_t>(h), static_cast<uint64_t>(w)};
}

TensorDescriptor depth_descriptor(int64_t h, int64_t w, DType dtype, uint64_t offset) {
    check_depth_dtype(dtype);
    return describe_payload(MessageKind::DepthImage, dtype, depth_shape(h, w), offset);
}

DType checked(DType dtype) {
    check_depth_dtype(dtype);
    return dtype;
}

}  // namespace

void check_depth_dtype(DType dtype) {
    if (dtype != DType::Float32 && dtype != DType::UInt16)
        throw InvalidArgument("DepthImage dtype '" + std::string(dtype_name(dtype)) +
                              "' is not supported; use 'float32' (metres) or 'uint16' (millimetres)");
}

DepthImage::DepthImage(int64_t height, int64_t width, DType dtype)
    : Message(MessageKind::DepthImage, checked(dtype), depth_shape(height, width)) {}

DepthImage::DepthImage(int64_t height, int64_t width, DType dtype, Block block, uint64_t offset)
    : Message(depth_descriptor(height, width, dtype, offset), std::move(block), false) {}

DepthImage DepthImage::from_descriptor(const TensorDescriptor& desc) {
    const TensorDescriptor d = validate(desc, MessageKind::DepthImage);
    return received(d, Pool::instance().acquire(d.block));
}

DepthImage DepthImage::received(const TensorDescriptor& desc, Block b) {
    const TensorDescriptor d = validate(desc, MessageKind::DepthImage);
    check_depth_dtype(d.dtype);
    if (d.ndim != 2) throw ShmError("corrupt DepthImage descriptor: ndim " + std::to_string(d.ndim));
    // Size caps as for a locally made image: height()/width() are 32-bit views of
    // the shape, and must never disagree with it.
    for (int i = 0; i < 2; ++i)
        if (d.shape[i] < 1 || d.shape[i] > static_cast<uint64_t>(kMaxSide))
            throw ShmError("corrupt DepthImage descriptor: side " + std::to_string(d.shape[i]) +
                           " is outside 1.." + std::to_string(kMaxSide));
    return DepthImage(d, std::move(b), true);
}

DepthImage DepthImage::copy() const {
    auto [d, b] = copy_payload();
    return DepthImage(d, std::move(b), false);
}

std::size_t DepthImage::pixel_index(int64_t x, int64_t y) const {
    if (x < 0 || x >= width() || y < 0 || y >= height())
        throw OutOfRange("pixel (" + std::to_string(x) + ", " + std::to_string(y) +
                         ") is outside the " + std::to_string(width()) + "x" +
                         std::to_string(height()) + " depth image; valid x: 0.." +
                         std::to_string(width() - 1) + ", y: 0.." + std::to_string(height() - 1));
    return static_cast<std::size_t>(y) * width() + static_cast<std::size_t>(x);
}

double DepthImage::get_depth(int64_t x, int64_t y) const {
    const std::size_t i = pixel_index(x, y);
    if (is_meters()) {
        float v;
        std::memcpy(&v, data() + i * 4, 4);
        return v;
    }
    uint16_t mm;
    std::memcpy(&mm, data() + i * 2, 2);
    return mm * 0.001;
}

void DepthImage::set_depth(int64_t x, int64_t y, double metres) {
    require_writable("set_depth");
    const std::size_t i = pixel_index(x, y);
    if (is_meters()) {
        if (!std::isnan(metres) && !(metres >= 0 && metres <= std::numeric_limits<float>::max()))
            throw InvalidArgument("depth " + std::to_string(metres) +
                                  " m is invalid; expected a finite value >= 0 metres "
                                  "(NaN or 0 mean no measurement)");
        float v = static_cast<float>(metres);
        std::memcpy(mutable_data() + i * 4, &v, 4);
        return;
    }
    if (!(metres >= 0 && metres <= 65.535))
        throw InvalidArgument("depth " + std::to_string(metres) +
                              " m is invalid for a uint16 (millimetre) depth image; expected 0..65.535 m");
    auto mm = static_cast<uint16_t>(std::lround(metres * 1000.0));
    std::memcpy(mutable_data() + i * 2, &mm, 2);
}

std::optional<DepthStatistics> DepthImage::depth_statistics() const {
    const std::size_t n = std::size_t{width()} * height();
    double lo = std::numeric_limits<double>::infinity(), hi = -lo, sum = 0;
    uint64_t valid = 0;
    if (is_meters()) {
        const float* p = reinterpret_cast<const float*>(data());
        for (std::size_t i = 0; i < n; ++i) {
            const float v = p[i];
            if (!(std::isfinite(v) && v > 0)) continue;
            lo = std::min<double>(lo, v);
            hi = std::max<double>(hi, v);
            sum += v;
            ++valid;
        }
    } else {
        const uint16_t* p = reinterpret_cast<const uint16_t*>(data());
        uint64_t s = 0;
        uint16_t mn = 0xFFFF, mx = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const uint16_t v = p[i];
            if (v == 0) continue;
            mn = std::min(mn, v);
            mx = std::max(mx, v);
            s += v;
            ++valid;
        }
        lo = mn * 0.001;
        hi = mx * 0.001;
        sum = static_cast<double>(s) * 0.001;
    }
    if (valid == 0) return std::nullopt;
    return DepthStatistics{lo, hi, sum / static_cast<double>(valid), valid};
}

}  // namespace horus

// depth_image.hpp — DepthImage: per-pixel distance, float32 metres or uint16 millimetres.
//
// get_depth/set_depth always speak metres; a uint16 image stores round(m * 1000).
// Valid measurements: finite and > 0 (float32), non-zero (uint16); 0 or NaN
// marks "no measurement".
#pragma once

#include <cstdint>
#include <optional>
#include <tuple>

#include "horus/msg/message.hpp"

namespace horus {

struct DepthStatistics {
    double min_m, max_m, mean_m;
    uint64_t valid_pixels;
};

class DepthImage : public Message {
  public:
    static constexpr int64_t kMaxSide = 1 << 20;

    /// dtype must be Float32 (metres) or UInt16 (millimetres).
    DepthImage(int64_t height, int64_t width, DType dtype);
    DepthImage(int64_t height, int64_t width, DType dtype, Block block, uint64_t offset);
    static DepthImage from_descriptor(const TensorDescriptor& desc);
    /// A received DepthImage over `block` (already acquired for `desc.block`); shared, read-only.
    static DepthImage received(const TensorDescriptor& desc, Block block);
    DepthImage copy() const;

    uint32_t height() const { return static_cast<uint32_t>(desc_.shape[0]); }
    uint32_t width() const { return static_cast<uint32_t>(desc_.shape[1]); }
    /// Metres per stored unit: 1.0 for float32, 0.001 for uint16.
    double depth_scale() const { return dtype() == DType::UInt16 ? 0.001 : 1.0; }
    bool is_meters() const { return dtype() == DType::Float32; }
    bool is_millimeters() const { return dtype() == DType::UInt16; }

    /// Depth at (x, y) in metres (NaN/0 = no measurement as stored).
    double get_depth(int64_t x, int64_t y) const;
    /// Sets depth at (x, y) in metres: >= 0 (NaN allowed for float32 as "no
    /// measurement"); for uint16 at most 65.535 m.
    void set_depth(int64_t x, int64_t y, double metres);
    /// (min, max, mean) in metres over valid pixels; nullopt if there are none.
    std::optional<DepthStatistics> depth_statistics() const;

  private:
    DepthImage(const TensorDescriptor& desc, Block block, bool shared)
        : Message(desc, std::move(block), shared) {}
    std::size_t pixel_index(int64_t x, int64_t y) const;
};

/// Throws InvalidArgument unless dtype is float32 or uint16.
void check_depth_dtype(DType dtype);

}  // namespace horus

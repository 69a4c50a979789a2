// point_cloud.hpp — PointCloud: N points of F fields each (XYZ, XYZI, XYZRGB, ...).
//
// Payload shape (N, F), C-contiguous, dtype float32 or float64 (float16 too).
// N may be 0 (an empty scan). F in [1, 64].
#pragma once

#include <cstdint>
#include <vector>

#include "horus/msg/message.hpp"

namespace horus {

class PointCloud : public Message {
  public:
    static constexpr int64_t kMaxPoints = int64_t{1} << 32;
    static constexpr int64_t kMaxFields = 64;

    PointCloud(int64_t num_points, int64_t fields, DType dtype);
    PointCloud(int64_t num_points, int64_t fields, DType dtype, Block block, uint64_t offset);
    static PointCloud from_descriptor(const TensorDescriptor& desc);
    /// A received PointCloud over `block` (already acquired for `desc.block`); shared, read-only.
    static PointCloud received(const TensorDescriptor& desc, Block block);
    PointCloud copy() const;

    uint64_t point_count() const { return desc_.shape[0]; }
    uint32_t fields_per_point() const { return static_cast<uint32_t>(desc_.shape[1]); }
    bool is_xyz() const { return fields_per_point() == 3; }
    bool has_intensity() const { return fields_per_point() >= 4; }
    bool has_color() const { return fields_per_point() >= 6; }

    /// The i-th point's fields (float32 clouds only: TypeMismatch otherwise).
    std::vector<double> point_at(int64_t i) const;

  private:
    PointCloud(const TensorDescriptor& desc, Block block, bool shared)
        : Message(desc, std::move(block), shared) {}
};

/// Throws InvalidArgument unless dtype is a float type.
void check_point_dtype(DType dtype);

}  // namespace horus

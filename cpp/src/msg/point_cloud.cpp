// point_cloud.cpp — point cloud message (see point_cloud.hpp).
#include "horus/msg/point_cloud.hpp"

#include <cstring>

#include "horus/base/error.hpp"
#include "horus/pool/pool.hpp"

namespace horus {
namespace {

std::vector<uint64_t> cloud_shape(int64_t n, int64_t f) {
    if (n < 0 || n > PointCloud::kMaxPoints)
        throw InvalidArgument("num_points = " + std::to_string(n) + " is out of range; expected 0.." +
                              std::to_string(PointCloud::kMaxPoints));
    if (f < 1 || f > PointCloud::kMaxFields)
        throw InvalidArgument("fields = " + std::to_string(f) + " is out of range; expected 1.." +
                              std::to_string(PointCloud::kMaxFields) + " (3 = XYZ, 4 = XYZI, 6 = XYZRGB)");
    return {static_cast<uint64_t>(n), static_cast<uint64_t>(f)};
}

DType checked(DType dtype) {
    check_point_dtype(dtype);
    return dtype;
}

TensorDescriptor cloud_descriptor(int64_t n, int64_t f, DType dtype, uint64_t offset) {
    check_point_dtype(dtype);
    return describe_payload(MessageKind::PointCloud, dtype, cloud_shape(n, f), offset);
}

}  // namespace

void check_point_dtype(DType dtype) {
    if (!is_float(dtype))
        throw InvalidArgument("PointCloud dtype '" + std::string(dtype_name(dtype)) +
                              "' is not supported; use 'float32', 'float64' or 'float16'");
}

PointCloud::PointCloud(int64_t num_points, int64_t fields, DType dtype)
    : Message(MessageKind::PointCloud, checked(dtype), cloud_shape(num_points, fields)) {}

PointCloud::PointCloud(int64_t num_points, int64_t fields, DType dtype, Block block, uint64_t offset)
    : Message(cloud_descriptor(num_points, fields, dtype, offset), std::move(block), false) {}

PointCloud PointCloud::from_descriptor(const TensorDescriptor& desc) {
    const TensorDescriptor d = validate(desc, MessageKind::PointCloud);
    return received(d, Pool::instance().acquire(d.block));
}

PointCloud PointCloud::received(const TensorDescriptor& desc, Block b) {
    const TensorDescriptor d = validate(desc, MessageKind::PointCloud);
    check_point_dtype(d.dtype);
    if (d.ndim != 2) throw ShmError("corrupt PointCloud descriptor: ndim " + std::to_string(d.ndim));
    // Size caps as for a locally made cloud (fields_per_point() is a 32-bit view of shape[1]).
    if (d.shape[0] > static_cast<uint64_t>(kMaxPoints) || d.shape[1] < 1 ||
        d.shape[1] > static_cast<uint64_t>(kMaxFields))
        throw ShmError("corrupt PointCloud descriptor: " + std::to_string(d.shape[0]) + " points of " +
                       std::to_string(d.shape[1]) + " fields");
    return PointCloud(d, std::move(b), true);
}

PointCloud PointCloud::copy() const {
    auto [d, b] = copy_payload();
    return PointCloud(d, std::move(b), false);
}

std::vector<double> PointCloud::point_at(int64_t i) const {
    if (dtype() != DType::Float32)
        throw TypeMismatch("point_at() needs a float32 cloud; this one is " +
                           std::string(dtype_name(dtype())) + " (use to_numpy()[i] instead)");
    if (i < 0 || static_cast<uint64_t>(i) >= point_count())
        throw OutOfRange("point index " + std::to_string(i) + " is out of range; the cloud has " +
                         std::to_string(point_count()) + " points (valid: 0.." +
                         std::to_string(static_cast<int64_t>(point_count()) - 1) + ")");
    const uint32_t f = fields_per_point();
    const float* p = reinterpret_cast<const float*>(data()) + static_cast<std::size_t>(i) * f;
    return std::vector<double>(p, p + f);
}

}  // namespace horus

// bind_point_cloud.cpp — Python class horus.PointCloud.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include "horus/msg/point_cloud.hpp"
#include "py_args.hpp"
#include "py_message.hpp"

namespace nb = nanobind;

namespace horus::py {
namespace {

PointCloud cloud_from_input(const ArrayInput& in, const char* function) {
    if (in.shape.size() != 2)
        throw InvalidArgument(std::string(function) + "() expects an (N, F) array (F fields per point); got " +
                              in.describe());
    if (!is_float(in.dtype))
        throw TypeMismatch(std::string(function) + "() needs float32, float64 or float16 points; got " +
                           in.describe());
    const auto n = static_cast<int64_t>(in.shape[0]), f = static_cast<int64_t>(in.shape[1]);
    uint64_t offset = 0;
    if (Block b = pool_block_of(in, &offset)) return PointCloud(n, f, in.dtype, std::move(b), offset);
    PointCloud c(n, f, in.dtype);
    copy_into(c.mutable_data(), in);
    return c;
}

}  // namespace

void bind_point_cloud(nb::module_& m) {
    nb::class_<PointCloud> cls(m, "PointCloud",
                               "Pool-backed point cloud of N points with F fields each (XYZ, XYZI, XYZRGB).\n\n"
                               "Values are unspecified until written (like numpy.empty).");
    cls.def(
           "__init__",
           [](PointCloud* self, IntArg num_points, IntArg fields, const std::string& dtype) {
               new (self) PointCloud(size_arg(num_points, "num_points", 0, PointCloud::kMaxPoints),
                                     size_arg(fields, "fields", 1, PointCloud::kMaxFields,
                                              " (3 = XYZ, 4 = XYZI, 6 = XYZRGB)"),
                                     parse_dtype(dtype));
           },
           nb::arg("num_points"), nb::arg("fields") = 3, nb::arg("dtype") = "float32")
        .def_static("from_numpy",
                    [](nb::handle a) { return cloud_from_input(array_input(a, "PointCloud.from_numpy"), "PointCloud.from_numpy"); },
                    nb::arg("array"), "Copies an (N, F) float array into a new point cloud.")
        .def_static("from_torch",
                    [](nb::handle t) { return cloud_from_input(torch_input(t, "PointCloud.from_torch"), "PointCloud.from_torch"); },
                    nb::arg("tensor"), "Copies an (N, F) float CPU tensor into a new point cloud.")
        .def_prop_ro("point_count", &PointCloud::point_count, "Number of points.")
        .def_prop_ro("fields_per_point", &PointCloud::fields_per_point,
                     "Values per point (3 = XYZ, 4 = XYZI, 6 = XYZRGB).")
        .def("is_xyz", &PointCloud::is_xyz, "True if there are exactly 3 fields (XYZ).")
        .def("has_intensity", &PointCloud::has_intensity, "True if there are 4 or more fields (XYZI).")
        .def("has_color", &PointCloud::has_color, "True if there are 6 or more fields (XYZRGB).")
        .def("point_at",
             [](const PointCloud& c, IntArg index) { return c.point_at(point_index_arg(index, c.point_count())); },
             nb::arg("index"),
             "The fields of point `index` as a list of floats (float32 clouds).")
        .def("__repr__", [](const PointCloud& c) {
            return "PointCloud(" + std::to_string(c.point_count()) + " points x " +
                   std::to_string(c.fields_per_point()) + " " + std::string(dtype_name(c.dtype())) + ", " +
                   repr_metadata(c) + ")";
        });
    bind_message_common(cls);
}

}  // namespace horus::py

// bind_depth_image.cpp — Python class horus.DepthImage.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include "horus/msg/depth_image.hpp"
#include "py_args.hpp"
#include "py_message.hpp"

namespace nb = nanobind;

namespace horus::py {
namespace {

DepthImage depth_from_input(const ArrayInput& in, const char* function) {
    const bool hw1 = in.shape.size() == 3 && in.shape[2] == 1;
    if (in.shape.size() != 2 && !hw1)
        throw InvalidArgument(std::string(function) + "() expects an (H, W) array; got " + in.describe());
    if (in.dtype != DType::Float32 && in.dtype != DType::UInt16)
        throw TypeMismatch(std::string(function) + "() needs float32 (metres) or uint16 (millimetres) "
                           "data; got " + in.describe() + " (convert with .astype(np.float32))");
    const auto h = static_cast<int64_t>(in.shape[0]), w = static_cast<int64_t>(in.shape[1]);
    uint64_t offset = 0;
    if (Block b = pool_block_of(in, &offset)) return DepthImage(h, w, in.dtype, std::move(b), offset);
    DepthImage d(h, w, in.dtype);
    copy_into(d.mutable_data(), in);
    return d;
}

}  // namespace

void bind_depth_image(nb::module_& m) {
    nb::class_<DepthImage> cls(m, "DepthImage",
                               "Pool-backed depth image: float32 metres or uint16 millimetres.\n\n"
                               "Values are unspecified until written (like numpy.empty).");
    cls.def(
           "__init__",
           [](DepthImage* self, IntArg height, IntArg width, const std::string& dtype) {
               new (self) DepthImage(size_arg(height, "height", 1, DepthImage::kMaxSide),
                                     size_arg(width, "width", 1, DepthImage::kMaxSide), parse_dtype(dtype));
           },
           nb::arg("height"), nb::arg("width"), nb::arg("dtype") = "float32")
        .def_static("from_numpy",
                    [](nb::handle a) { return depth_from_input(array_input(a, "DepthImage.from_numpy"), "DepthImage.from_numpy"); },
                    nb::arg("array"), "Copies an (H, W) float32 or uint16 array into a new depth image.")
        .def_static("from_torch",
                    [](nb::handle t) { return depth_from_input(torch_input(t, "DepthImage.from_torch"), "DepthImage.from_torch"); },
                    nb::arg("tensor"), "Copies an (H, W) float32 or uint16 CPU tensor into a new depth image.")
        .def_prop_ro("height", &DepthImage::height, "Height in pixels.")
        .def_prop_ro("width", &DepthImage::width, "Width in pixels.")
        .def_prop_ro("depth_scale", &DepthImage::depth_scale,
                     "Metres per stored unit: 1.0 (float32) or 0.001 (uint16).")
        .def("is_meters", &DepthImage::is_meters, "True for float32 depth in metres.")
        .def("is_millimeters", &DepthImage::is_millimeters, "True for uint16 depth in millimetres.")
        .def("get_depth",
             [](const DepthImage& d, IntArg x, IntArg y) {
                 const Pixel p = pixel_args(x, y, d.width(), d.height(), "depth image");
                 return d.get_depth(p.x, p.y);
             },
             nb::arg("x"), nb::arg("y"),
             "Depth at (x, y) in metres, whatever the storage.")
        .def("set_depth",
             [](DepthImage& d, IntArg x, IntArg y, FloatArg depth) {
                 const Pixel p = pixel_args(x, y, d.width(), d.height(), "depth image");
                 d.set_depth(p.x, p.y, float_arg(depth, "depth", "expected metres >= 0"));
             },
             nb::arg("x"), nb::arg("y"), nb::arg("depth"),
             "Sets depth at (x, y) from metres (>= 0; uint16 images round to millimetres, max 65.535 m).")
        .def("depth_statistics",
             [](const DepthImage& d) -> nb::object {
                 auto s = d.depth_statistics();
                 if (!s) return nb::none();
                 return nb::make_tuple(s->min_m, s->max_m, s->mean_m);
             },
             "(min, max, mean) in metres over valid pixels (finite and > 0), or None if there are none.")
        .def("__repr__", [](const DepthImage& d) {
            return "DepthImage(" + std::to_string(d.width()) + "x" + std::to_string(d.height()) + " " +
                   std::string(dtype_name(d.dtype())) + (d.is_meters() ? " m" : " mm") + ", " +
                   repr_metadata(d) + ")";
        });
    bind_message_common(cls);
}

}  // namespace horus::py

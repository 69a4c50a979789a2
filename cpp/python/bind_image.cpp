// bind_image.cpp — Python class horus.Image.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include "horus/msg/image.hpp"
#include "py_args.hpp"
#include "py_message.hpp"

namespace nb = nanobind;

namespace horus::py {
namespace {

/// (height, width, encoding) for an array given to from_numpy/from_torch.
Encoding image_encoding_for(const ArrayInput& in, const std::optional<std::string>& encoding,
                            const char* function) {
    if (in.shape.size() != 2 && in.shape.size() != 3)
        throw InvalidArgument(std::string(function) + "() expects an (H, W) or (H, W, C) array; got " +
                              in.describe());
    const uint32_t channels = in.shape.size() == 3 ? static_cast<uint32_t>(in.shape[2]) : 1;
    if (encoding) {
        Encoding e = parse_encoding(*encoding);
        const EncodingInfo& info = encoding_info(e);
        if (info.dtype != in.dtype || info.channels != channels)
            throw InvalidArgument(std::string(function) + "(): encoding '" + *encoding + "' needs a " +
                                  std::string(dtype_name(info.dtype)) + " array of shape (H, W" +
                                  (info.channels > 1 ? ", " + std::to_string(info.channels) : std::string()) +
                                  "); got " + in.describe());
        return e;
    }
    if (auto e = infer_encoding(in.dtype, channels)) return *e;
    throw InvalidArgument(std::string(function) + "() cannot infer an encoding for a " + in.describe() +
                          "; pass encoding= (one of " + encoding_names() + ")");
}

Image image_from_input(const ArrayInput& in, const std::optional<std::string>& encoding,
                       const char* function) {
    const Encoding e = image_encoding_for(in, encoding, function);
    const auto h = static_cast<int64_t>(in.shape[0]), w = static_cast<int64_t>(in.shape[1]);
    uint64_t offset = 0;
    if (Block b = pool_block_of(in, &offset)) return Image(h, w, e, std::move(b), offset);
    Image img(h, w, e);
    copy_into(img.mutable_data(), in);
    return img;
}

}  // namespace

void bind_image(nb::module_& m) {
    nb::class_<Image> cls(m, "Image",
                          "Pool-backed camera image with zero-copy NumPy/PyTorch/JAX views.\n\n"
                          "Image(height, width, encoding='rgb8') allocates an image in shared memory;\n"
                          "its pixels are unspecified until written (like numpy.empty): use fill().");
    cls.def(
           "__init__",
           [](Image* self, IntArg height, IntArg width, const std::string& encoding) {
               new (self) Image(size_arg(height, "height", 1, Image::kMaxSide),
                                size_arg(width, "width", 1, Image::kMaxSide), parse_encoding(encoding));
           },
           nb::arg("height"), nb::arg("width"), nb::arg("encoding") = "rgb8")
        .def_static(
            "from_numpy",
            [](nb::handle array, std::optional<std::string> encoding) {
                return image_from_input(array_input(array, "Image.from_numpy"), encoding, "Image.from_numpy");
            },
            nb::arg("array"), nb::arg("encoding") = nb::none(),
            "Copies an (H, W) or (H, W, C) array into a new pool image (no copy if it already views "
            "a pool block). The encoding is inferred from dtype and channels when omitted.")
        .def_static(
            "from_torch",
            [](nb::handle tensor, std::optional<std::string> encoding) {
                return image_from_input(torch_input(tensor, "Image.from_torch"), encoding, "Image.from_torch");
            },
            nb::arg("tensor"), nb::arg("encoding") = nb::none(),
            "Copies a CPU torch.Tensor (H, W) or (H, W, C) into a new pool image.")
        .def_static(
            "from_bytes",
            [](nb::handle data, IntArg height, IntArg width, const std::string& encoding) {
                const int64_t h = size_arg(height, "height", 1, Image::kMaxSide);
                const int64_t w = size_arg(width, "width", 1, Image::kMaxSide);
                BufferView buf(data, "Image.from_bytes");
                return Image::from_bytes(buf.bytes(), h, w, parse_encoding(encoding));
            },
            nb::arg("data"), nb::arg("height"), nb::arg("width"), nb::arg("encoding") = "rgb8",
            "Copies raw bytes (exactly height*width*bytes_per_pixel) into a new pool image.")
        .def_prop_ro("height", &Image::height, "Image height in pixels.")
        .def_prop_ro("width", &Image::width, "Image width in pixels.")
        .def_prop_ro("channels", &Image::channels, "Channels per pixel (3 for rgb8).")
        .def_prop_ro("encoding", [](const Image& i) { return std::string(encoding_name(i.encoding())); },
                     "Encoding name, e.g. 'rgb8'.")
        .def_prop_ro("step", &Image::step, "Row stride in bytes.")
        .def("pixel",
             [](const Image& i, IntArg x, IntArg y) {
                 const Pixel p = pixel_args(x, y, i.width(), i.height(), "image");
                 return values_list(i.pixel(p.x, p.y), i.dtype());
             },
             nb::arg("x"), nb::arg("y"), "Channel values of pixel (x, y) as a list.")
        .def("set_pixel",
             [](Image& i, IntArg x, IntArg y, nb::handle values) {
                 const Pixel p = pixel_args(x, y, i.width(), i.height(), "image");
                 i.set_pixel(p.x, p.y, numbers(values, "set_pixel"));
             },
             nb::arg("x"), nb::arg("y"), nb::arg("values"), "Sets pixel (x, y) to one value per channel.")
        .def("fill", [](Image& i, nb::handle values) { i.fill(numbers(values, "fill")); }, nb::arg("values"),
             "Sets every pixel to `values` (one per channel, or one for all).")
        .def("copy_from",
             [](Image& i, nb::handle data) {
                 BufferView buf(data, "Image.copy_from");
                 i.copy_from(buf.bytes());
             },
             nb::arg("data"), "Overwrites all pixels from a bytes-like object of exactly nbytes bytes.")
        .def("roi",
             [](const Image& i, IntArg x, IntArg y, IntArg w, IntArg h) {
                 const Roi r = roi_args(x, y, w, h, i.width(), i.height());
                 auto out = i.roi(r.x, r.y, r.w, r.h);
                 return nb::bytes(reinterpret_cast<const char*>(out.data()), out.size());
             },
             nb::arg("x"), nb::arg("y"), nb::arg("w"), nb::arg("h"),
             "Bytes of the region [x, x+w) x [y, y+h), rows concatenated.")
        .def("__repr__", [](const Image& i) {
            return "Image(" + std::to_string(i.width()) + "x" + std::to_string(i.height()) + " " +
                   std::string(encoding_name(i.encoding())) + ", " + repr_metadata(i) + ")";
        });
    bind_message_common(cls);
}

}  // namespace horus::py

// module.cpp — the nanobind extension horus._core: wires the bindings together.
#include <nanobind/nanobind.h>

#include "horus/base/blocking_wait.hpp"
#include "horus/msg/dtype.hpp"
#include "horus/msg/encoding.hpp"
#include "py_errors.hpp"
#include "py_gil.hpp"
#include "py_views.hpp"

namespace nb = nanobind;

namespace horus::py {
void bind_image(nb::module_& m);
void bind_depth_image(nb::module_& m);
void bind_point_cloud(nb::module_& m);
void bind_tensor(nb::module_& m);
void bind_pool(nb::module_& m);
void bind_topic(nb::module_& m);
void bind_record(nb::module_& m);
void bind_payload(nb::module_& m);
void bind_discovery(nb::module_& m);
void bind_sched(nb::module_& m);
}  // namespace horus::py

namespace horus::py {
PyThreadState* current_thread_state() {
#if PY_VERSION_HEX >= 0x030D0000
    return PyThreadState_GetUnchecked();
#else
    return _PyThreadState_UncheckedGet();
#endif
}
}  // namespace horus::py

NB_MODULE(_core, m) {
    m.doc() = "horus C++ core: shared-memory pool and zero-copy message types.";
    horus::py::bind_errors(m);
    horus::py::bind_image(m);
    horus::py::bind_depth_image(m);
    horus::py::bind_point_cloud(m);
    horus::py::bind_tensor(m);
    horus::py::bind_pool(m);
    horus::py::bind_record(m);
    horus::py::bind_payload(m);
    horus::py::bind_topic(m);
    horus::py::bind_discovery(m);
    horus::py::bind_sched(m);
    nb::dict encodings;
    for (int i = 0; i < horus::kEncodingCount; ++i) {
        const auto& info = horus::encoding_info(static_cast<horus::Encoding>(i));
        encodings[nb::str(info.name.data(), info.name.size())] =
            nb::make_tuple(info.channels, info.bytes_per_pixel,
                           nb::str(horus::dtype_name(info.dtype).data(), horus::dtype_name(info.dtype).size()));
    }
    m.attr("ENCODINGS") = encodings;
    // Waits on process-shared locks happen without the GIL (base/blocking_wait.hpp).
    // Only a thread that has a current thread state (so holds the GIL) releases it, and
    // never while the interpreter finalizes (at exit, detaching may wait on a lock).
    horus::set_blocking_hooks({[]() -> void* {
                                   if (horus::py::interpreter_finalizing() || !horus::py::current_thread_state())
                                       return nullptr;
                                   return PyEval_SaveThread();
                               },
                               [](void* state) { horus::py::restore_gil(static_cast<PyThreadState*>(state)); }});
    // From the interpreter's atexit on, a thread coming back without the GIL parks (py_gil.hpp).
    horus::py::main_thread_id = std::this_thread::get_id();
    // Objects that a parked daemon thread still holds at exit are not leaks of ours.
    nb::set_leak_warnings(false);
    nb::module_::import_("atexit").attr("register")(
        nb::cpp_function([] { horus::py::on_python_exit(); }));
    m.def("_seal_all_views", &horus::py::seal_all_views,
          "Makes every writable NumPy view of a held message read-only (runs before os.fork(): "
          "parent and child share those payloads from then on).");
}

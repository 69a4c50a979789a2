// py_payload.cpp — the _Payload buffer type (see py_payload.hpp).
#include "py_payload.hpp"

#include <new>

namespace nb = nanobind;

namespace horus::py {
namespace {

struct PayloadObject {
    PyObject_HEAD
    BytesMessage* msg;
};

PyTypeObject* g_payload_type = nullptr;

void payload_dealloc(PyObject* obj) {
    auto* self = reinterpret_cast<PayloadObject*>(obj);
    delete self->msg;  // drops the block reference
    PyTypeObject* t = Py_TYPE(obj);
    t->tp_free(obj);
    Py_DECREF(t);
}

int payload_getbuffer(PyObject* obj, Py_buffer* view, int flags) {
    auto* self = reinterpret_cast<PayloadObject*>(obj);
    return PyBuffer_FillInfo(view, obj, const_cast<std::byte*>(self->msg->data()),
                             static_cast<Py_ssize_t>(self->msg->desc.size), 1, flags);
}

PyObject* payload_repr(PyObject* obj) {
    auto* self = reinterpret_cast<PayloadObject*>(obj);
    return PyUnicode_FromFormat("<horus payload of %u bytes, %s>", self->msg->desc.size,
                                self->msg->is_inline() ? "inline" : "in a pool block");
}

PyType_Slot payload_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(payload_dealloc)},
    {Py_bf_getbuffer, reinterpret_cast<void*>(payload_getbuffer)},
    {Py_tp_repr, reinterpret_cast<void*>(payload_repr)},
    {Py_tp_doc, const_cast<char*>("Read-only bytes of one received message (keeps its pool block alive).")},
    {0, nullptr},
};
PyType_Spec payload_spec = {"horus._core._Payload", sizeof(PayloadObject), 0,
                             Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION, payload_slots};

}  // namespace

void bind_payload(nb::module_& m) {
    g_payload_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&payload_spec));
    if (!g_payload_type) throw nb::python_error();
    m.attr("_Payload") = nb::handle(reinterpret_cast<PyObject*>(g_payload_type));
}

nb::object make_payload(BytesMessage&& msg) {
    auto* self = reinterpret_cast<PayloadObject*>(g_payload_type->tp_alloc(g_payload_type, 0));
    if (!self) throw nb::python_error();
    nb::object obj = nb::steal(reinterpret_cast<PyObject*>(self));
    self->msg = new BytesMessage(std::move(msg));
    return obj;
}

const BytesMessage& payload_message(nb::handle payload) {
    return *reinterpret_cast<PayloadObject*>(payload.ptr())->msg;
}

}  // namespace horus::py

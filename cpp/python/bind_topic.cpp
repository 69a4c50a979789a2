// bind_topic.cpp — Python class horus.Topic: one object both publishes and subscribes.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include <chrono>
#include <deque>
#include <cmath>

#include "horus/msg/depth_image.hpp"
#include "horus/base/error.hpp"
#include "horus/msg/image.hpp"
#include "horus/msg/point_cloud.hpp"
#include "horus/msg/tensor.hpp"
#include "horus/topic/topic.hpp"
#include "horus/topic/topic_endpoint.hpp"
#include "horus/topic/topic_ring.hpp"
#include "horus/msg/bytes_message.hpp"
#include "horus/topic/record_topic.hpp"
#include "py_args.hpp"
#include "py_errors.hpp"
#include "py_gil.hpp"
#include "py_message.hpp"
#include "py_payload.hpp"
#include "py_record.hpp"
#include "py_views.hpp"

namespace nb = nanobind;

namespace horus::py {
namespace {

struct PyTopic {
    TopicEndpoint endpoint;   // cursor, losses, subscriber entry (topic_endpoint.hpp)
    nb::object message_type;  // the class given, or None (typed by whoever created the topic)
    const RecordTypeInfo* record = nullptr;  // a typed-message topic's class, or a Tensor-of-records topic's
    TopicRing& ring() const { return endpoint.ring(); }
};

/// What Topic(message_type, ...) asks for.
struct TypeRequest {
    uint32_t kind = 0;
    const RecordTypeInfo* record = nullptr;
    std::string default_name;
};

uint32_t kind_of_type(nb::handle type);

TypeRequest request_of(nb::handle type) {
    TypeRequest r;
    if (type.is_none()) return r;
    if (PyType_Check(type.ptr())) {
        if (const RecordTypeInfo* info = record_type_info(reinterpret_cast<PyTypeObject*>(type.ptr()))) {
            r.kind = static_cast<uint32_t>(MessageKind::Record);
            r.record = info;
            r.default_name = default_topic_name(info->layout->name());
            return r;
        }
    } else if (nb::hasattr(type, "__horus_tensor_of__")) {  // horus.Tensor[Detection]
        nb::object rc = type.attr("__horus_tensor_of__");
        const RecordTypeInfo* info =
            PyType_Check(rc.ptr()) ? record_type_info(reinterpret_cast<PyTypeObject*>(rc.ptr())) : nullptr;
        if (!info) throw TypeMismatch("Tensor[...] needs a message class declared with @horus.message");
        r.kind = static_cast<uint32_t>(MessageKind::Tensor);
        r.record = info;
        r.default_name = "tensor." + default_topic_name(info->layout->name());
        return r;
    }
    r.kind = kind_of_type(type);
    r.default_name = default_topic_name(nb::cast<std::string>(type.attr("__name__")));
    return r;
}

uint32_t kind_of_type(nb::handle type) {
    if (type.is_none()) return 0;
    if (type.is(nb::type<Image>())) return static_cast<uint32_t>(MessageKind::Image);
    if (type.is(nb::type<DepthImage>())) return static_cast<uint32_t>(MessageKind::DepthImage);
    if (type.is(nb::type<PointCloud>())) return static_cast<uint32_t>(MessageKind::PointCloud);
    if (type.is(nb::type<Tensor>())) return static_cast<uint32_t>(MessageKind::Tensor);
    throw TypeMismatch("Topic message type must be Image, DepthImage, PointCloud, Tensor, Tensor[<message class>], "
                       "a @horus.message class, or a topic name (str) for schemaless data; got " +
                       nb::cast<std::string>(nb::repr(type)));
}

nb::object type_of_kind(uint32_t kind) {
    switch (static_cast<MessageKind>(kind)) {
        case MessageKind::Image: return nb::borrow(nb::type<Image>());
        case MessageKind::DepthImage: return nb::borrow(nb::type<DepthImage>());
        case MessageKind::PointCloud: return nb::borrow(nb::type<PointCloud>());
        case MessageKind::Tensor: return nb::borrow(nb::type<Tensor>());
        case MessageKind::Record:
        case MessageKind::Data: break;
    }
    return nb::none();
}

/// The class a topic's typed messages are received as: the topic's own, else the one
/// declared in this process with the topic's layout hash.
const RecordTypeInfo* receive_type(PyTopic& t, uint64_t hash) {
    if (t.record && t.record->layout->hash() == hash) return t.record;
    return record_type_for_hash(hash);
}

/// horus._data's encode, decode and CORRUPT, and msgpack.unpackb with the keywords of a
/// message without arrays (looked up once).
struct DataCodec {
    PyObject* encode;
    PyObject* decode;
    PyObject* corrupt;
    PyObject* unpackb;
    PyObject* inline_kwargs;
};

const DataCodec& data_codec() {
    static DataCodec c = [] {
        nb::module_ m = nb::module_::import_("horus._data");
        nb::dict kw;
        kw["ext_hook"] = nb::getattr(m, "_inline_hook");
        kw["strict_map_key"] = false;
        return DataCodec{nb::getattr(m, "encode").release().ptr(), nb::getattr(m, "decode").release().ptr(),
                         nb::getattr(m, "CORRUPT").release().ptr(),
                         nb::getattr(nb::module_::import_("msgpack"), "unpackb").release().ptr(), kw.release().ptr()};
    }();
    return c;
}

/// The value of an inline schemaless message (no arrays: the header is the whole value),
/// decoded by msgpack.unpackb without a Python frame of ours; null (no error set) if corrupt.
PyObject* decode_inline_data(const BytesMessage& m) {
    const std::byte* p = m.data();
    const uint32_t size = m.desc.size;
    uint32_t hlen = 0, n = 0;
    if (size < 8) return nullptr;
    std::memcpy(&hlen, p, 4);
    std::memcpy(&n, p + 4, 4);
    if (n != 0 || hlen > size - 8) return nullptr;
    nb::object header = nb::steal(PyBytes_FromStringAndSize(reinterpret_cast<const char*>(p + 8), hlen));
    if (!header.is_valid()) throw nb::python_error();
    nb::object args = nb::make_tuple(header);
    PyObject* v = PyObject_Call(data_codec().unpackb, args.ptr(), data_codec().inline_kwargs);
    if (!v) {
        if (!PyErr_ExceptionMatches(PyExc_Exception)) throw nb::python_error();  // KeyboardInterrupt, ...
        PyErr_Clear();  // whatever a corrupt payload makes msgpack raise
    }
    return v;
}

/// Sends a typed message (a record object); returns its sequence number.
uint64_t send_record(PyTopic& t, RecordObject* r) {
    const char* fid = "";
    Py_ssize_t fid_len = 0;
    if (r->frame_id) {
        fid = PyUnicode_AsUTF8AndSize(r->frame_id, &fid_len);
        if (!fid) throw nb::python_error();
    }
    BytesMessage m = make_record_message(*r->info->layout, r->data, r->timestamp_ns,
                                         std::string_view(fid, static_cast<std::size_t>(fid_len)));
    return t.endpoint.publish(m.desc, r->info->layout.get(), m.is_inline() ? nullptr : &m.block);
}

/// Sends any other value as schemaless data: MessagePack (horus/_data.py) with the NumPy
/// arrays in it copied after it into one block:
///   u32 header bytes | u32 arrays | header | u64 offset per array | arrays, 64-byte aligned
uint64_t send_data(PyTopic& t, nb::handle value) {
    nb::object enc = nb::handle(data_codec().encode)(value);  // header bytes, or (header, arrays)
    const bool has_arrays = !PyBytes_Check(enc.ptr());
    nb::bytes header = has_arrays ? nb::borrow<nb::bytes>(nb::borrow<nb::tuple>(enc)[0]) : nb::borrow<nb::bytes>(enc);
    nb::list arrays = has_arrays ? nb::borrow<nb::list>(nb::borrow<nb::tuple>(enc)[1]) : nb::list();
    const std::size_t n = nb::len(arrays);
    std::deque<BufferView> views;  // (a deque: its elements never move)
    const uint64_t hlen = header.size();
    uint64_t total = 8 + hlen + 8 * n;
    std::vector<uint64_t> offsets(n);
    for (std::size_t i = 0; i < n; ++i) {
        views.emplace_back(arrays[i], "a schemaless message's array");
        total = (total + 63) / 64 * 64;
        offsets[i] = total;
        total += views[i].bytes().size();
    }
    if (hlen > UINT32_MAX || n > UINT32_MAX)
        throw InvalidArgument("schemaless message too large: " + std::to_string(hlen) + " header bytes");
    BytesMessage m = BytesMessage::allocate(MessageKind::Data, 0, total, n == 0);
    std::byte* p = m.data();
    const uint32_t h32 = static_cast<uint32_t>(hlen), n32 = static_cast<uint32_t>(n);
    std::memcpy(p, &h32, 4);
    std::memcpy(p + 4, &n32, 4);
    std::memcpy(p + 8, header.c_str(), hlen);
    std::memcpy(p + 8 + hlen, offsets.data(), 8 * n);
    for (std::size_t i = 0; i < n; ++i)
        if (!views[i].bytes().empty()) std::memcpy(p + offsets[i], views[i].bytes().data(), views[i].bytes().size());
    return t.endpoint.publish(m.desc, nullptr, m.is_inline() ? nullptr : &m.block);
}

Message* as_message(nb::handle msg) {
    if (Image* p = nullptr; nb::try_cast<Image*>(msg, p) && p) return p;
    if (DepthImage* p = nullptr; nb::try_cast<DepthImage*>(msg, p) && p) return p;
    if (PointCloud* p = nullptr; nb::try_cast<PointCloud*>(msg, p) && p) return p;
    if (Tensor* p = nullptr; nb::try_cast<Tensor*>(msg, p) && p) return p;
    return nullptr;
}

/// Topic.send: publishes `msg` and returns its sequence number on the topic.
uint64_t send_message(PyTopic& t, nb::handle msg) {
    // Plain containers can only be schemaless data: skip the message casts.
    if ((PyDict_Check(msg.ptr()) || PyList_Check(msg.ptr()) || PyTuple_Check(msg.ptr())) &&
        t.ring().kind() == static_cast<uint32_t>(MessageKind::Data)) {
        return send_data(t, msg);
    }
    if (RecordObject* r = as_record(msg.ptr())) {
        return send_record(t, r);
    }
    Message* m = as_message(msg);
    if (!m) {
        const uint32_t k = t.ring().kind();
        if (k == static_cast<uint32_t>(MessageKind::Data) || k == 0) {
            return send_data(t, msg);
        }
        throw TypeMismatch("Topic.send() expects an Image, DepthImage, PointCloud or Tensor, or a "
                           "typed message (topic '" + t.ring().name() + "' carries " +
                           t.ring().type_description() + "); got " +
                           value_repr(msg));
    }
    // Publishing may wait on the topic's process-shared mutex (a reclaimer may
    // hold every topic mutex for a while); such a wait releases the GIL
    // (base/blocking_wait.hpp), an uncontended send keeps it.
    const uint64_t seq = t.endpoint.publish(*m);
    seal_views(m->block());  // NumPy views taken before the send become read-only
    return seq;
}

nb::object try_recv(PyTopic& t) {
    for (;;) {
        TensorDescriptor desc;
        Block block;
        if (!t.endpoint.try_read(desc, block)) return nb::none();
        // A message of another kind than the topic's is corrupt (only a foreign writer puts
        // one there): never handed to a typed topic's reader.
        const uint32_t topic_kind = t.ring().kind();
        if (topic_kind != 0 && static_cast<uint32_t>(desc.kind) != topic_kind) {
            t.endpoint.count_dropped();
            continue;
        }
        try {
            switch (desc.kind) {
                case MessageKind::Image: return nb::cast(Image::received(desc, std::move(block)));
                case MessageKind::DepthImage: return nb::cast(DepthImage::received(desc, std::move(block)));
                case MessageKind::PointCloud: return nb::cast(PointCloud::received(desc, std::move(block)));
                case MessageKind::Tensor:
                    return nb::cast(
                        Tensor::received(desc, std::move(block), desc.record_size ? t.ring().type_hash() : 0));
                case MessageKind::Record: {
                    BytesMessage m = BytesMessage::received(desc, std::move(block));
                    const uint64_t hash = t.ring().type_hash();
                    if (m.desc.type_hash != hash) break;  // not the topic's type: corrupt
                    const RecordTypeInfo* info = receive_type(t, hash);
                    if (!info)
                        throw TypeMismatch("topic '" + t.ring().name() + "' carries " + t.ring().type_description() +
                                           ", a type not declared in this process; declare it with @horus.message "
                                           "(or import the module that does) to receive it");
                    if (!m.holds_record_of(*info->layout)) break;
                    const uint64_t ts = m.desc.timestamp_ns;
                    char frame[kFrameIdCapacity];
                    std::memcpy(frame, m.desc.frame_id, kFrameIdCapacity);
                    if (m.is_inline()) return make_received_record(*info, m.data(), nullptr, ts, frame);
                    const std::byte* data = m.data();
                    nb::object owner = make_payload(std::move(m));
                    return make_received_record(*info, data, owner.ptr(), ts, frame);
                }
                case MessageKind::Data: {
                    BytesMessage m = BytesMessage::received(desc, std::move(block));
                    // Inline: the bytes are in our copy of the descriptor, and there are no
                    // arrays; pooled: a _Payload keeps the block alive for the arrays that view it.
                    if (m.is_inline()) {
                        PyObject* v = decode_inline_data(m);
                        if (!v) break;
                        return nb::steal(v);
                    }
                    nb::object payload = make_payload(std::move(m));
                    nb::object decoded = nb::handle(data_codec().decode)(payload);
                    if (decoded.is(data_codec().corrupt)) break;
                    return decoded;
                }
            }
        } catch (const ShmError&) {
        } catch (const TypeMismatch& e) {
            if (desc.kind == MessageKind::Record) throw;  // a type we cannot name: tell the user
        } catch (const InvalidArgument&) {
            // X::received() checks only the descriptor, and some of its checks
            // (an Image side beyond 2^20, a DepthImage/PointCloud dtype) are the
            // constructors' InvalidArgument: corruption all the same.
        }
        t.endpoint.count_dropped();  // a corrupt descriptor is skipped, never trusted
    }
}

double timeout_seconds(nb::handle timeout) {
    PyObject* o = timeout.ptr();
    // bool is an int subclass, but recv(timeout=True) meaning 1 s is a bug, not a wish.
    if (PyBool_Check(o) || (!PyFloat_Check(o) && !PyLong_Check(o)))
        throw TypeMismatch("timeout must be None or a number of seconds (an int or a float, not a bool); got " +
                           value_repr(timeout));
    double s = PyFloat_Check(o) ? PyFloat_AS_DOUBLE(o) : PyLong_AsDouble(o);
    if (s == -1.0 && PyErr_Occurred()) {
        // An int beyond a double's range (+-10**400): only its sign matters.
        PyErr_Clear();
        const int negative = PyObject_RichCompareBool(o, nb::int_(0).ptr(), Py_LT);
        if (negative < 0) throw nb::python_error();
        s = negative ? -INFINITY : INFINITY;
    }
    if (std::isnan(s) || s < 0)
        throw InvalidArgument("timeout = " + value_repr(timeout) +
                              " is invalid: expected None or a number of seconds >= 0 "
                              "(float('inf') waits until a message comes)");
    return s;
}

}  // namespace

void bind_topic(nb::module_& m) {
    m.def(
        "block_ref",
        [](nb::handle msg) {
            Message* p = as_message(msg);
            if (!p)
                throw TypeMismatch("block_ref() expects an Image, DepthImage, PointCloud or Tensor; got " +
                                   nb::cast<std::string>(nb::repr(msg)));
            const BlockRef r = p->block().ref();
            return nb::make_tuple(r.segment, r.index, r.generation, p->descriptor().offset);
        },
        nb::arg("msg").none(),
        "Where a message's payload lives in the pool: (segment, block, generation, offset). "
        "Unlike data_ptr() it is the same in every process, so equal values on both sides of "
        "a topic show that no copy was made.");

    nb::class_<PyTopic>(m, "Topic",
                        "A named publish/subscribe channel in shared memory.\n\n"
                        "Topic(Image) uses the default name 'image' (the lowercase type name). One Topic\n"
                        "both sends and receives; it receives everything sent on its name after it was\n"
                        "created, by any process (itself included). A subscriber that falls more than\n"
                        "`capacity` messages behind loses the oldest ones; `dropped` counts them.\n\n"
                        "A message is kept until every subscribing Topic has read it, then its pool block\n"
                        "is recycled. A Topic that sends before it ever calls recv()/try_recv() is a\n"
                        "publisher and keeps nothing for itself (if it reads later, what was recycled\n"
                        "meanwhile counts in `dropped`); the newest message is always kept.\n\n"
                        "capacity (a power of two up to 65536) is fixed by whoever creates the topic; the\n"
                        "default is 8 for Image, DepthImage and PointCloud (each slot keeps its message's\n"
                        "block alive, so rings of big messages stay short) and 64 for Tensor or a topic\n"
                        "first opened by name only. Opening an existing topic with another capacity is a\n"
                        "ValueError.")
        .def(
            "__init__",
            [](PyTopic* self, nb::handle message_type, std::optional<std::string> name,
               std::optional<IntArg> capacity) {
                TypeRequest req;
                std::string n;
                if (PyUnicode_Check(message_type.ptr())) {  // Topic("status"): schemaless data
                    if (name)
                        throw TypeMismatch("Topic(" + nb::cast<std::string>(nb::repr(message_type)) +
                                           ", name=...): give either a message type and a name, or a name only");
                    n = nb::cast<std::string>(message_type);
                    req.kind = static_cast<uint32_t>(MessageKind::Data);
                } else {
                    req = request_of(message_type);
                    if (name) n = *name;
                    else if (req.kind != 0) n = req.default_name;
                    else throw InvalidArgument("Topic(None, name=None): give a message type or a topic name");
                }
                std::optional<uint32_t> cap;
                if (capacity) {
                    int64_t c = 0;
                    if (!read_int64(capacity->value, "capacity", &c))
                        throw InvalidArgument("capacity = " + value_repr(capacity->value) +
                                              " is invalid: it must be a power of two from 1 to " +
                                              std::to_string(topic_layout::kMaxCapacity));
                    validate_capacity(c);
                    cap = static_cast<uint32_t>(c);
                }
                std::shared_ptr<TopicRing> ring =
                    TopicRing::open(n, req.kind, cap, req.record ? req.record->layout.get() : nullptr);
                nb::object type;
                const RecordTypeInfo* record = req.record;
                if (req.kind == static_cast<uint32_t>(MessageKind::Data)) {
                    type = nb::none();
                } else if (req.kind != 0) {
                    type = nb::borrow(message_type);
                } else if (ring->kind() == static_cast<uint32_t>(MessageKind::Record) &&
                           (record = record_type_for_hash(ring->type_hash()))) {
                    type = nb::borrow(reinterpret_cast<PyObject*>(record->cls));
                } else {
                    type = type_of_kind(ring->kind());
                }
                new (self) PyTopic{TopicEndpoint(std::move(ring)), std::move(type), record};
            },
            nb::arg("message_type").none(), nb::arg("name") = nb::none(), nb::arg("capacity") = nb::none())
        .def(
            "send", [](PyTopic& t, nb::handle msg) { send_message(t, msg); },
            nb::arg("msg").none(),
            "Publishes `msg`. An Image, DepthImage, PointCloud or Tensor travels without a copy "
            "and becomes shared: mutating it afterwards raises ReadOnlyError (use copy()). A typed "
            "message is copied into the topic (inline when small), so it stays writable. On a "
            "schemaless topic (Topic(\"name\")) any MessagePack-able value is sent; NumPy arrays in "
            "it are copied once into the pool and received as read-only zero-copy views.")
        .def("_send_seq", [](PyTopic& t, nb::handle msg) { return send_message(t, msg); }, nb::arg("msg").none(),
             "send(), returning the message's sequence number on the topic (for horus.bridge: it\n"
             "recognises the messages it published itself by these numbers).")
        .def("_release_read", [](PyTopic& t) { t.ring().release_read(); },
             "Releases the pool blocks of messages every subscriber has read (but the newest), as\n"
             "the next send would: for a sender that gets PoolExhausted while the pool is full of\n"
             "messages already read.")
        .def_prop_ro("_cursor", [](PyTopic& t) { return t.endpoint.cursor(); },
                     "The sequence number of the next message this Topic reads: after a recv() that\n"
                     "returned a message, _cursor - 1 is that message's sequence number.")
        .def("try_recv", [](PyTopic& t) { return try_recv(t); },
             "The next message, or None if nothing is waiting. Never blocks.")
        .def(
            "recv",
            [](PyTopic& t, nb::handle timeout) -> nb::object {
                // Validate first: a bad timeout is an error even when a message is waiting.
                const double seconds = timeout.is_none() ? 0.0 : timeout_seconds(timeout);
                nb::object got = try_recv(t);
                if (!got.is_none() || timeout.is_none()) return got;
                const auto deadline =
                    std::chrono::steady_clock::now() +
                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                        std::chrono::duration<double>(std::min(seconds, 1e9)));
                for (;;) {
                    const auto left = deadline - std::chrono::steady_clock::now();
                    if (left.count() <= 0) return nb::none();
                    // Wait in slices so Ctrl-C is honoured promptly.
                    const auto slice = std::min<std::chrono::nanoseconds>(
                        std::chrono::duration_cast<std::chrono::nanoseconds>(left), std::chrono::milliseconds(50));
                    const uint64_t cursor = t.endpoint.cursor();  // read with the GIL held
                    without_gil([&] { t.ring().wait(cursor, slice); });
                    if (PyErr_CheckSignals() != 0) throw nb::python_error();
                    got = try_recv(t);
                    if (!got.is_none()) return got;
                }
            },
            nb::arg("timeout").none() = nb::none(),
            "The next message. Without timeout (None) it returns None at once when nothing is "
            "waiting; with timeout= seconds (an int or float >= 0; float('inf') waits until a "
            "message comes) it waits up to that long: it polls for at most "
            "HORUS_RECV_SPIN_US microseconds (default 50), then sleeps until a send wakes it. "
            "Ctrl-C interrupts the wait.")
        .def(
            "_list_as",
            [](PyTopic& t, const std::string& node, uint32_t roles) { t.endpoint.list_as(node, roles); },
            nb::arg("node"), nb::arg("roles"),
            "Discovery lists this Topic under Node `node` with `roles` (1 publishes, 2 subscribes).")
        .def_prop_ro("name", [](const PyTopic& t) { return t.ring().name(); }, "Topic name.")
        .def_prop_ro("capacity", [](const PyTopic& t) { return t.ring().capacity(); },
                     "Ring slots: how far a subscriber may fall behind before losing messages.")
        .def_prop_ro("message_type", [](const PyTopic& t) -> nb::object {
                         if (!t.message_type.is_none()) return t.message_type;
                         // Opened untyped: what the topic carries now.
                         if (t.ring().kind() == static_cast<uint32_t>(MessageKind::Record))
                             if (const RecordTypeInfo* info = record_type_for_hash(t.ring().type_hash()))
                                 return nb::borrow(reinterpret_cast<PyObject*>(info->cls));
                         return type_of_kind(t.ring().kind());
                     },
                     "The message class this topic carries (None if not known yet, or schemaless).")
        .def_prop_ro("type_description", [](const PyTopic& t) { return t.ring().type_description(); },
                     "What the topic carries, e.g. 'CmdVel messages with layout ... (hash 0x...)'.")
        .def_prop_ro("layout_hash", [](const PyTopic& t) { return t.ring().type_hash(); },
                     "The layout hash of the topic's record type (typed messages, Tensors of records), else 0.")
        .def_prop_ro("dropped", [](const PyTopic& t) { return t.endpoint.dropped(); },
                     "Messages this subscriber lost because it fell more than capacity behind.")
        .def_prop_ro("published", [](const PyTopic& t) { return t.ring().write_sequence(); },
                     "Messages sent on this topic by anyone since it was created.")
        .def_prop_ro("pending", [](const PyTopic& t) { return t.endpoint.pending(); },
                     "Messages waiting for this subscriber (at most capacity).")
        .def("__repr__", [](const PyTopic& t) {
            nb::object type = t.message_type.is_none() ? type_of_kind(t.ring().kind()) : t.message_type;
            std::string tn = type.is_none() ? (t.ring().kind() == static_cast<uint32_t>(MessageKind::Data) ? "schemaless" : "untyped")
                                            : nb::hasattr(type, "__name__") ? nb::cast<std::string>(type.attr("__name__"))
                                                                            : nb::cast<std::string>(nb::repr(type));
            return "Topic(" + tn + ", name='" + t.ring().name() + "', capacity=" +
                   std::to_string(t.ring().capacity()) + ", dropped=" + std::to_string(t.endpoint.dropped()) + ")";
        });
}

}  // namespace horus::py

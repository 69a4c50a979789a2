// py_record.hpp — Python objects of typed messages (records) and their field access.
//
// horus._core._RecordBase is the C base of every @horus.message class. An instance
// holds the record's bytes in its C layout (msg/record_layout.hpp): in the object
// itself when they fit kInlineStorage, else on the heap, or, for a message received
// in a pool block, in that block (read-only, kept alive by a _Payload owner). Nested
// record fields are views into their parent's bytes. Every field is a data descriptor
// (horus._core._RecordField) that converts and range-checks on assignment, so the bytes
// are always a valid C value. timestamp_ns and frame_id live beside the bytes.
//
// A class becomes a record type through _declare_record(cls, ...) (called by
// horus/_message.py); its RecordTypeInfo lives as long as the process. All functions
// need the GIL.
#pragma once

#include <nanobind/nanobind.h>

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "horus/msg/record_layout.hpp"

namespace horus::py {

struct RecordTypeInfo {
    std::shared_ptr<const RecordLayout> layout;
    PyTypeObject* cls = nullptr;          // the Python class (a strong reference)
    std::vector<PyObject*> field_names;   // interned, in field order
    std::vector<PyObject*> field_classes; // nested record fields: the nested class; else nullptr
};

/// The record object's C part (exposed for the topic bindings).
struct RecordObject {
    PyObject_HEAD
    std::byte* data;        // the record's bytes (layout->size())
    PyObject* owner;        // keeps `data` alive when it is not ours: parent record or _Payload; else nullptr
    PyObject* frame_id;     // a str, or nullptr for ""
    const RecordTypeInfo* info;
    uint64_t timestamp_ns;
    bool readonly;
    bool heap;              // data was PyMem_Calloc'ed
    alignas(16) std::byte storage[88];
};

void bind_record(nanobind::module_& m);

/// The record type of class `t` (nullptr if it is not a declared record class).
const RecordTypeInfo* record_type_info(PyTypeObject* t);
/// The record class declared in this process with layout hash `hash` (nullptr if none).
const RecordTypeInfo* record_type_for_hash(uint64_t hash);
/// `o` as a record object, or nullptr.
RecordObject* as_record(PyObject* o);

/// A new read-only record of `info`: `data` is copied when `owner` is null, else viewed
/// (owner keeps it alive). `frame_id` is decoded as UTF-8 with replacement characters.
nanobind::object make_received_record(const RecordTypeInfo& info, const std::byte* data, PyObject* owner,
                                      uint64_t timestamp_ns, const char* frame_id);

}  // namespace horus::py

// bind_pool.cpp — pool statistics and maintenance functions of the horus module.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "horus/session/namespace_cleaner.hpp"
#include "horus/pool/pool.hpp"
#include "horus/session/namespace_name.hpp"

namespace nb = nanobind;

namespace horus::py {

void bind_pool(nb::module_& m) {
    nb::class_<PoolStats>(m, "PoolStats", "A snapshot of the shared-memory pool (see horus.pool_stats()).")
        .def_ro("namespace", &PoolStats::namespace_name, "HORUS_NAMESPACE of this process.")
        .def_ro("blocks_in_use", &PoolStats::blocks_in_use, "Blocks held by any process or topic slot.")
        .def_ro("bytes_in_use", &PoolStats::bytes_in_use, "Bytes of the blocks in use.")
        .def_ro("blocks_total", &PoolStats::blocks_total, "Blocks in all segments.")
        .def_ro("capacity_bytes", &PoolStats::capacity_bytes, "Payload bytes of all segments.")
        .def_ro("reserved_bytes", &PoolStats::reserved_bytes, "Shared memory reserved, headers included.")
        .def_ro("max_bytes", &PoolStats::max_bytes, "The cap (HORUS_POOL_MAX_BYTES).")
        .def_ro("segments", &PoolStats::segments, "Number of shared-memory segments.")
        .def_ro("processes", &PoolStats::processes, "Live processes attached to the namespace.")
        .def_ro("local_blocks", &PoolStats::local_blocks, "Blocks this process holds.")
        .def_ro("reclaimed_processes", &PoolStats::reclaimed_processes,
                "Dead processes whose references were reclaimed so far.")
        .def("as_dict",
             [](const PoolStats& s) {
                 nb::dict d;
                 d["namespace"] = s.namespace_name;
                 d["blocks_in_use"] = s.blocks_in_use;
                 d["bytes_in_use"] = s.bytes_in_use;
                 d["blocks_total"] = s.blocks_total;
                 d["capacity_bytes"] = s.capacity_bytes;
                 d["reserved_bytes"] = s.reserved_bytes;
                 d["max_bytes"] = s.max_bytes;
                 d["segments"] = s.segments;
                 d["processes"] = s.processes;
                 d["local_blocks"] = s.local_blocks;
                 d["reclaimed_processes"] = s.reclaimed_processes;
                 return d;
             },
             "The statistics as a dict.")
        .def("__repr__", [](const PoolStats& s) {
            return "PoolStats(namespace='" + s.namespace_name + "', blocks_in_use=" +
                   std::to_string(s.blocks_in_use) + ", bytes_in_use=" + std::to_string(s.bytes_in_use) +
                   ", capacity_bytes=" + std::to_string(s.capacity_bytes) + ", segments=" +
                   std::to_string(s.segments) + ", max_bytes=" + std::to_string(s.max_bytes) +
                   ", processes=" + std::to_string(s.processes) + ")";
        });

    m.def("pool_stats", [] { return Pool::instance().stats(); },
          "Blocks and bytes in use, capacity and segments of the shared-memory pool.");
    m.def("reclaim",
          [] { return Pool::instance().reclaim_dead_processes(); },
          "Releases every reference held by processes that died, tears down topics all of whose "
          "users died, and repairs topic reference counts left by a publisher killed inside send(); "
          "returns how many processes, topics and block words were reclaimed.");
    m.def("namespace", [] { return shm_namespace(); }, "The shared-memory namespace of this process.");
    m.def("_list_namespace_objects", [](const std::string& ns) {
        validate_namespace(ns);
        return list_namespace_objects(ns);
    }, nb::arg("namespace"));
    m.def("_list_namespaces", [] {
        nb::list out;
        for (const auto& info : list_namespaces()) {
            nb::dict d;
            d["namespace"] = info.name;
            d["objects"] = info.objects;
            d["bytes"] = info.bytes;
            d["live_processes"] = info.live_processes;
            out.append(d);
        }
        return out;
    }, "Namespaces with objects in /dev/shm: name, objects, bytes, live_processes.");
    m.def("_clean_namespace", [](const std::string& ns, bool force) { return clean_namespace(ns, force); },
          nb::arg("namespace"), nb::arg("force") = false,
          "Removes a namespace's shared memory if no live process uses it (or if force); returns what was removed.");
    m.def("_validate_namespace", [](const std::string& ns) { validate_namespace(ns); }, nb::arg("namespace"));
}

}  // namespace horus::py

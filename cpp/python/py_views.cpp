// py_views.cpp — see py_views.hpp.
#include "py_views.hpp"

#include <unordered_map>
#include <vector>

namespace nb = nanobind;

namespace horus::py {
namespace {

struct Views {
    uint64_t generation = 0;
    std::vector<nb::object> refs;  // weakref.ref objects
};

std::unordered_map<uint64_t, Views>& views() {
    static auto* v = new std::unordered_map<uint64_t, Views>();  // never destroyed (used at exit)
    return *v;
}

uint64_t key_of(const BlockRef& r) { return (uint64_t{r.segment} << 32) | r.index; }

void make_read_only(Views& v) {
    for (nb::object& ref : v.refs) {
        PyObject* arr = PyWeakref_GetObject(ref.ptr());
        if (arr && arr != Py_None) {
            if (PyObject_SetAttrString(nb::handle(arr).attr("flags").ptr(), "writeable", Py_False) != 0) PyErr_Clear();
        }
    }
    v.refs.clear();
}

}  // namespace

void track_writable_view(const Block& block, nb::handle array) {
    auto& all = views();
    const BlockRef r = block.ref();
    Views& v = all[key_of(r)];
    if (v.generation != r.generation) {  // another allocation of the block: old views are dead or not ours
        v.refs.clear();
        v.generation = r.generation;
    }
    std::erase_if(v.refs, [](const nb::object& ref) { return PyWeakref_GetObject(ref.ptr()) == Py_None; });
    PyObject* ref = PyWeakref_NewRef(array.ptr(), nullptr);
    if (!ref) throw nb::python_error();
    v.refs.push_back(nb::steal(ref));
    if (all.size() > 4096) {  // forget blocks whose views are all gone
        for (auto it = all.begin(); it != all.end();) {
            std::erase_if(it->second.refs, [](const nb::object& x) { return PyWeakref_GetObject(x.ptr()) == Py_None; });
            it = it->second.refs.empty() ? all.erase(it) : std::next(it);
        }
    }
}

void seal_views(const Block& block) {
    auto& all = views();
    const BlockRef r = block.ref();
    auto it = all.find(key_of(r));
    if (it == all.end()) return;
    if (it->second.generation == r.generation) make_read_only(it->second);
    all.erase(it);
}

void seal_all_views() {
    for (auto& [key, v] : views()) make_read_only(v);
    views().clear();
}

}  // namespace horus::py

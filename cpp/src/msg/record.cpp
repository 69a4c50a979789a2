// record.cpp — building HORUS_MESSAGE layouts and the process's layout registry.
#include "horus/msg/record.hpp"

#include <mutex>
#include <unordered_map>

#include "horus/base/error.hpp"

namespace horus {
namespace {

struct LayoutRegistry {
    std::mutex mutex;
    std::unordered_map<uint64_t, std::shared_ptr<const RecordLayout>> by_hash;
};

LayoutRegistry& layout_registry() {
    static auto* r = new LayoutRegistry();  // never destroyed: layouts are used at exit
    return *r;
}

}  // namespace

void register_record_layout(const std::shared_ptr<const RecordLayout>& layout) {
    LayoutRegistry& r = layout_registry();
    std::lock_guard<std::mutex> g(r.mutex);
    r.by_hash.emplace(layout->hash(), layout);
}

std::shared_ptr<const RecordLayout> find_record_layout(uint64_t hash) {
    LayoutRegistry& r = layout_registry();
    std::lock_guard<std::mutex> g(r.mutex);
    auto it = r.by_hash.find(hash);
    return it == r.by_hash.end() ? nullptr : it->second;
}

namespace detail {

std::shared_ptr<const RecordLayout> declare_layout(const char* name, std::size_t size, std::vector<FieldSpec> fields) {
    std::shared_ptr<const RecordLayout> layout;
    try {
        layout = RecordLayout::make(name, std::move(fields), size);
    } catch (const InvalidArgument& e) {
        throw Error(std::string("HORUS_MESSAGE(") + name + "): " + e.what());
    }
    register_record_layout(layout);
    return layout;
}

}  // namespace detail
}  // namespace horus

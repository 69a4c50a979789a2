// layout_registry.cpp — publishing and reading layout bundles (layout_registry.hpp).
#include "horus/topic/layout_registry.hpp"

#include <atomic>
#include <cstring>
#include <mutex>
#include <set>
#include <unordered_set>

#include "horus/base/error.hpp"
#include "horus/base/shm_object.hpp"
#include "horus/session/namespace_name.hpp"

namespace horus {
namespace {

constexpr uint64_t kBundleMagic = 0x454c444e5542534full;  // "OSBUNDLE"
constexpr uint32_t kBundleVersion = 1;
constexpr std::size_t kMaxBundleBytes = std::size_t{1} << 20;

struct BundleHeader {
    uint64_t magic;
    uint32_t version;
    uint32_t text_bytes;      // the text that follows the header ('\n'-separated, no NUL)
    uint64_t hash;            // the layout's hash (== the name)
    std::atomic<uint32_t> ready;  // stored last (release)
    uint32_t reserved;
};

std::string object_name(uint64_t hash) { return shm_name("layout." + hash_hex(hash).substr(2)); }

void collect(const RecordLayout& layout, std::vector<std::string>& out, std::unordered_set<uint64_t>& seen) {
    if (!seen.insert(layout.hash()).second) return;
    out.push_back(layout.text());
    for (const RecordField& f : layout.fields())
        if (f.kind == FieldKind::Record && f.record) collect(*f.record, out, seen);
}

}  // namespace

std::vector<std::string> layout_bundle(const RecordLayout& layout) {
    std::vector<std::string> out;
    std::unordered_set<uint64_t> seen;
    collect(layout, out, seen);
    return out;
}

void publish_layout_bundle(const RecordLayout& layout) noexcept {
    static std::mutex mutex;
    static std::set<std::pair<std::string, uint64_t>> published;  // (namespace, hash) done by this process
    try {
        const std::string name = object_name(layout.hash());
        std::lock_guard<std::mutex> g(mutex);
        if (published.count({name, layout.hash()})) return;
        std::string text;
        for (const std::string& t : layout_bundle(layout)) text += (text.empty() ? "" : "\n") + t;
        if (text.size() > kMaxBundleBytes) return;
        ShmObject shm = ShmObject::create_exclusive(name, sizeof(BundleHeader) + text.size());
        if (shm.valid()) {
            auto* h = static_cast<BundleHeader*>(shm.data());
            h->magic = kBundleMagic;
            h->version = kBundleVersion;
            h->text_bytes = static_cast<uint32_t>(text.size());
            h->hash = layout.hash();
            std::memcpy(static_cast<char*>(shm.data()) + sizeof(BundleHeader), text.data(), text.size());
            h->ready.store(1, std::memory_order_release);
        }  // else it exists: written by another process (or a leftover that readers check)
        published.insert({name, layout.hash()});
    } catch (...) {
        // Best effort: tools that need the declaration say they could not rebuild the type.
    }
}

std::optional<std::vector<std::string>> read_layout_bundle(uint64_t hash) {
    ShmObject shm;
    try {
        shm = ShmObject::open_existing(object_name(hash), 0, false);
    } catch (const ShmError&) {
        return std::nullopt;  // foreign, empty or not mappable
    }
    if (!shm.valid() || shm.size() < sizeof(BundleHeader)) return std::nullopt;
    const auto* h = static_cast<const BundleHeader*>(shm.data());
    if (h->ready.load(std::memory_order_acquire) != 1 || h->magic != kBundleMagic || h->version != kBundleVersion ||
        h->hash != hash || h->text_bytes > kMaxBundleBytes || h->text_bytes > shm.size() - sizeof(BundleHeader))
        return std::nullopt;
    const std::string text(reinterpret_cast<const char*>(h + 1), h->text_bytes);
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    for (const std::string& line : lines)
        for (char c : line)
            if (c < 0x20 || c > 0x7E) return std::nullopt;  // canonical texts are printable ASCII
    if (lines.empty() || lines[0].empty()) return std::nullopt;
    return lines;
}

}  // namespace horus

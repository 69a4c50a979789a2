// namespace_cleaner.cpp — see namespace_cleaner.hpp.
#include "horus/namespace_cleaner.hpp"

#include <map>
#include <sys/stat.h>

#include "horus/error.hpp"
#include "horus/pool_layout.hpp"
#include "horus/process_identity.hpp"
#include "horus/robust_mutex.hpp"
#include "horus/shm_namespace.hpp"
#include "horus/shm_segment.hpp"

namespace horus {
namespace {

/// The namespace's pool control block, if it exists and is valid (else an empty segment).
ShmSegment open_control(const std::string& ns) {
    ShmSegment seg = ShmSegment::open_existing("/" + shm_file_prefix(ns) + "pool");
    if (!seg.valid() || seg.size() < sizeof(layout::PoolControl)) return {};
    auto* ctl = static_cast<layout::PoolControl*>(seg.data());
    if (ctl->magic != layout::kControlMagic || ctl->version != layout::kLayoutVersion ||
        ctl->ready.load() == 0)
        return {};
    return seg;
}

uint32_t count_live(layout::PoolControl* ctl) {
    uint32_t live = 0;
    for (auto& p : ctl->processes)
        if (p.state.load() == layout::kSlotLive && is_alive(ProcessIdentity{p.pid, p.start_time})) ++live;
    return live;
}

}  // namespace

std::vector<NamespaceInfo> list_namespaces() {
    std::map<std::string, NamespaceInfo> found;
    const std::vector<std::string> all = list_objects_with_prefix("horus.");  // "horus.<ns>.<what>"
    for (const auto& name : all) {
        const std::size_t dot = name.find('.', 6);
        if (name.rfind("horus.", 0) != 0 || dot == std::string::npos) continue;
        const std::string ns = name.substr(6, dot - 6);
        NamespaceInfo& info = found[ns];
        info.name = ns;
        info.objects.push_back(name);
        struct stat st {};
        if (stat(("/dev/shm/" + name).c_str(), &st) == 0) info.bytes += static_cast<uint64_t>(st.st_blocks) * 512;  // memory really used (tmpfs is sparse)
    }
    std::vector<NamespaceInfo> out;
    for (auto& [ns, info] : found) {
        if (ShmSegment ctl = open_control(ns); ctl.valid())
            info.live_processes = count_live(static_cast<layout::PoolControl*>(ctl.data()));
        out.push_back(std::move(info));
    }
    return out;
}

std::vector<std::string> clean_namespace(const std::string& ns, bool force) {
    validate_namespace(ns);
    ShmSegment seg = open_control(ns);
    layout::PoolControl* ctl = seg.valid() ? static_cast<layout::PoolControl*>(seg.data()) : nullptr;
    const bool locked = ctl && lock_robust_mutex(ctl->mutex) == 0;
    if (ctl) {
        if (!force && count_live(ctl) > 0) {
            if (locked) pthread_mutex_unlock(&ctl->mutex);
            return {};
        }
        ctl->destroyed.store(1);  // processes attaching now start over with a fresh pool
    }
    std::vector<std::string> removed = list_namespace_objects(ns);
    for (const auto& name : removed) ShmSegment::unlink("/" + name);
    if (locked) pthread_mutex_unlock(&ctl->mutex);
    return removed;
}

}  // namespace horus

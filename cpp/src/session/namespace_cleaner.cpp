// namespace_cleaner.cpp — see namespace_cleaner.hpp.
#include "horus/session/namespace_cleaner.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/mman.h>
#include <ctime>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

#include "horus/base/error.hpp"
#include "horus/base/liveness_lock.hpp"
#include "horus/base/robust_mutex.hpp"
#include "horus/base/shm_object.hpp"
#include "horus/session/namespace_name.hpp"
#include "horus/session/session_layout.hpp"

namespace horus {
namespace sl = session_layout;
namespace {

std::string session_object(const std::string& ns) {
    return std::string("/").append(shm_file_prefix(ns)).append("session");
}

/// The namespace's session object, if it exists, is ours and is valid (else empty).
ShmObject open_control(const std::string& ns) {
    ShmObject seg;
    try {
        seg = ShmObject::open_existing(session_object(ns));
    } catch (const ShmError&) {
        return {};  // foreign, empty or unreadable: it has no live processes we can see
    }
    if (!seg.valid() || seg.size() != sizeof(sl::SessionControl)) return {};
    auto* ctl = static_cast<sl::SessionControl*>(seg.data());
    if (ctl->magic != sl::kSessionMagic || ctl->version != sl::kSessionVersion || ctl->ready.load() == 0) return {};
    return seg;
}

/// Processes attached to namespace `ns`: those holding a liveness lock on its session
/// object (base/liveness_lock.hpp). Only the locks are read, so this also counts the
/// processes of a namespace whose object is another user's or not valid (ctl == nullptr:
/// every slot is probed; with our valid object, the Live slots).
uint32_t count_live(const std::string& ns, const sl::SessionControl* ctl) {
    const std::string path = "/dev/shm" + session_object(ns);
    const int probe = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (probe < 0) return 0;  // no session object: nobody is attached
    uint32_t live = 0;
    for (uint32_t s = 0; s < sl::kMaxProcesses; ++s)
        if ((!ctl || ctl->processes[s].state.load() == static_cast<uint32_t>(sl::SlotState::Live)) &&
            liveness::is_held(probe, s))
            ++live;
    close(probe);
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
        try {
            validate_namespace(ns);
        } catch (const InvalidArgument&) {
            continue;  // "horus.bad ns.x": no namespace can own it; never listed, never cleaned
        }
        NamespaceInfo& info = found[ns];
        info.name = ns;
        info.objects.push_back(name);
        struct stat st {};
        if (stat(("/dev/shm/" + name).c_str(), &st) == 0) info.bytes += static_cast<uint64_t>(st.st_blocks) * 512;  // memory really used (tmpfs is sparse)
    }
    std::vector<NamespaceInfo> out;
    for (auto& [ns, info] : found) {
        ShmObject ctl = open_control(ns);  // not ours or not valid: its locks still tell
        info.live_processes = count_live(ns, ctl.valid() ? static_cast<sl::SessionControl*>(ctl.data()) : nullptr);
        out.push_back(std::move(info));
    }
    return out;
}

std::vector<std::string> clean_namespace(const std::string& ns, bool force) {
    validate_namespace(ns);
    ShmObject seg = open_control(ns);
    auto* ctl = seg.valid() ? static_cast<sl::SessionControl*>(seg.data()) : nullptr;
    // A live process may hold the lock for long (or be stopped): --force waits at most
    // 2 s for it, then removes the objects anyway (live processes keep their mappings).
    pthread_mutex_t* held = nullptr;
    if (ctl) {
        timespec until {};
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 2;
        int r = pthread_mutex_timedlock(&ctl->mutex, &until);
        if (r == EOWNERDEAD) {
            pthread_mutex_consistent(&ctl->mutex);
            r = 0;
        }
        if (r == 0) held = &ctl->mutex;
        if (!force && (count_live(ns, ctl) > 0 || !held)) {
            if (held) pthread_mutex_unlock(held);
            return {};
        }
        ctl->destroyed.store(1);  // processes attaching now start over with a fresh namespace
    } else if (!force && count_live(ns, nullptr) > 0) {
        return {};  // another user's (or a corrupt) session object with live processes on it
    }
    std::vector<std::string> removed;
    for (const auto& name : list_namespace_objects(ns))
        if (::shm_unlink(("/" + name).c_str()) == 0) removed.push_back(name);  // only what really went
    if (held) pthread_mutex_unlock(held);
    return removed;
}

}  // namespace horus

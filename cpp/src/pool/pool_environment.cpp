// pool_environment.cpp — the pool's configuration (cap, size classes) and attaching
// to the namespace's pool control object (see pool.hpp).
#include <bit>
#include <cerrno>
#include <cstdlib>
#include <sys/statvfs.h>
#include <memory>
#include <vector>

#include "horus/base/control_object.hpp"
#include "horus/base/error.hpp"
#include "horus/base/robust_mutex.hpp"
#include "horus/pool/pool.hpp"
#include "pool_internal.hpp"
#include "horus/session/namespace_name.hpp"

namespace horus {
namespace {

uint64_t parse_max_bytes() {
    const char* env = std::getenv("HORUS_POOL_MAX_BYTES");
    if (!env || !*env) {
        struct statvfs st {};
        if (statvfs("/dev/shm", &st) == 0 && st.f_blocks > 0)
            return static_cast<uint64_t>(st.f_blocks) * st.f_frsize / 2;
        return 1ull << 30;
    }
    char* end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(env, &end, 10);
    uint64_t mult = 1;
    if (end && *end) {
        switch (*end) {
            case 'k': case 'K': mult = 1ull << 10; break;
            case 'm': case 'M': mult = 1ull << 20; break;
            case 'g': case 'G': mult = 1ull << 30; break;
            case 't': case 'T': mult = 1ull << 40; break;
            default: mult = 0;
        }
        if (mult && end[1] != '\0') mult = 0;
    }
    if (errno != 0 || end == env || mult == 0 || v == 0 || v > (1ull << 50) / mult || env[0] == '-')
        throw InvalidArgument(std::string("HORUS_POOL_MAX_BYTES='") + env +
                              "' is not a size between 1 and 2^50 bytes (e.g. 536870912, 512M, 4G)");
    return v * mult;
}

}  // namespace

uint64_t Pool::class_block_size(uint32_t size_class) {
    uint32_t exp = 8 + size_class / 4;
    uint64_t base = uint64_t{1} << exp;
    return base + (size_class % 4) * (base / 4);
}

uint32_t Pool::size_class_for(uint64_t bytes) {
    if (bytes <= pool_internal::kMinBlock) return 0;
    uint32_t exp = 63 - static_cast<uint32_t>(std::countl_zero(bytes - 1));  // 2^exp < bytes <= 2^(exp+1)
    uint64_t base = uint64_t{1} << exp;
    uint64_t step = base / 4;
    uint64_t q = (bytes - base + step - 1) / step;  // 1..4
    if (q == 4) return (exp + 1 - 8) * 4;
    return (exp - 8) * 4 + static_cast<uint32_t>(q);
}

Pool& Pool::instance() {
    static Pool* pool = [] {
        // Never deleted: handles may outlive static destruction, and the session keeps
        // a pointer to it as a participant (also when attach() failed after registering:
        // then a later call builds another one, and this one stays an inert participant,
        // kept reachable here).
        static std::vector<std::unique_ptr<Pool>> failed;
        auto p = std::unique_ptr<Pool>(new Pool(Session::instance()));
        try {
            p->attach();
        } catch (...) {
            if (p->registered_) failed.push_back(std::move(p));
            throw;
        }
        return p.release();
    }();
    return *pool;
}

Pool::Pool(Session& session) : session_(session), max_bytes_(parse_max_bytes()) {}

void Pool::open_control() {
    control_shm_ = open_control_object(shm_name("pool"), sizeof(layout::PoolControl), layout::kControlMagic,
                                       layout::kLayoutVersion, "horus pool control", [](void* p) {
                                           init_robust_mutex(static_cast<layout::PoolControl*>(p)->mutex);
                                       });
    control_ = static_cast<layout::PoolControl*>(control_shm_.data());
}

void Pool::attach() {
    // Holding a live slot first keeps the last process from tearing the namespace
    // down under us while we open the pool (teardown needs every slot free).
    bool have_slot = session_.claim_slot();
    if (!control_) open_control();
    session_.add_participant(*this);
    registered_ = true;
    slot_ = session_.slot();
    detached_.store(!have_slot, std::memory_order_release);
    session_.reclaim_dead();  // what dead processes left (may free a slot for us)
    if (!have_slot) {
        have_slot = session_.claim_slot();
        if (!have_slot)
            throw ShmError("namespace '" + session_.name() + "' already has " +
                           std::to_string(session_layout::kMaxProcesses) +
                           " live processes attached (the maximum); use another HORUS_NAMESPACE");
        slot_ = session_.slot();
        detached_.store(false, std::memory_order_release);
    }
}

void Pool::throw_not_attached() const {
    session_.require_attached();  // throws with the session's reason
    throw NotAttached("this process has no slot in the horus pool of namespace '" + session_.name() + "'");
}

}  // namespace horus

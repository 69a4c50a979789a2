// topic_open.cpp — opening a topic (create or attach), membership, and leaving it.
#include <algorithm>
#include <cstring>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <unistd.h>
#include <unordered_map>

#include "horus/base/error.hpp"
#include "horus/base/retry_backoff.hpp"
#include "horus/pool/pool.hpp"
#include "horus/session/namespace_name.hpp"
#include "horus/session/session.hpp"
#include "horus/topic/layout_registry.hpp"
#include "horus/topic/topic_ring.hpp"
#include "topic_internal.hpp"

namespace horus {
namespace tl = topic_layout;
using namespace topic_internal;
namespace {

// One TopicRing per (process, topic name): Topic objects share it.
struct Registry {
    std::mutex mutex;
    std::unordered_map<std::string, std::weak_ptr<TopicRing>> rings;
    pid_t pid = 0;  // the process the entries belong to (a forked child starts over)
};

Registry& registry() {
    static auto* r = new Registry();  // never destroyed: rings may die during static destruction
    return *r;
}

/// Fills a freshly created (zeroed) topic header; `ready` is stored last.
void initialise_topic(tl::TopicHeader* h, uint32_t kind, uint32_t capacity, const std::string& name) {
    h->magic = tl::kTopicMagic;
    h->version = tl::kTopicVersion;
    h->header_size = sizeof(tl::TopicHeader);
    h->kind.store(kind, std::memory_order_relaxed);
    h->capacity = capacity;
    std::memcpy(h->name, name.data(), std::min(name.size(), tl::kMaxNameLength));
    init_robust_mutex(h->mutex);
    h->ready.store(1, std::memory_order_release);
}


/// Under the topic mutex, once no user is left: marks the topic destroyed (attachers
/// start over), drops the ring references its slots hold, and unlinks it.
void destroy_topic(Pool& pool, tl::TopicHeader* h, tl::TopicSlot* slots, uint32_t capacity,
                   const std::string& shm) noexcept {
    h->destroyed.store(1, std::memory_order_release);
    for (uint32_t i = 0; i < capacity; ++i)
        if (slot_holds_ref(slots[i])) {
            // A block this process cannot reach keeps its count: reconciliation repairs it.
            const std::optional<BlockRef> ref = slot_block(slots[i]);
            if (!ref || pool.remove_ring_ref(*ref)) slots[i].holds_ref.store(0, std::memory_order_relaxed);
        }
    ShmObject::unlink(shm);
}

/// Claims a user entry for `me` (under the topic mutex). Throws ShmError when full.
uint32_t claim_user(tl::TopicHeader* h, const ProcessRef& me, const std::string& name) {
    reap_dead_users(h);  // users that died without closing the topic
    for (uint32_t u = 0; u < tl::kMaxUsers; ++u)
        if (!live(h->users[u].state)) {
            h->users[u].slot = me.slot;
            h->users[u].incarnation = me.incarnation;
            h->users[u].overflow_subscribers = 0;
            h->users[u].state.store(static_cast<uint32_t>(tl::EntryState::Live), std::memory_order_release);
            return u;
        }
    throw ShmError("topic '" + name + "' already has " + std::to_string(tl::kMaxUsers) +
                   " processes attached (the maximum)");
}

}  // namespace

void validate_topic_name(const std::string& name) {
    bool ok = !name.empty() && name.size() <= tl::kMaxNameLength;
    for (char c : name)
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '-');
    if (!ok)
        throw InvalidArgument("topic name '" + name + "' is invalid: use 1-" + std::to_string(tl::kMaxNameLength) +
                              " characters from A-Z a-z 0-9 _ . - (e.g. 'camera.rgb')");
}

std::chrono::nanoseconds TopicRing::recv_spin() {
    static const std::chrono::nanoseconds spin = [] {
        const char* env = std::getenv("HORUS_RECV_SPIN_US");
        if (!env || !*env) return std::chrono::nanoseconds(std::chrono::microseconds(kDefaultRecvSpinUs));
        char* end = nullptr;
        errno = 0;
        const long long v = std::strtoll(env, &end, 10);
        if (*end != '\0' || errno != 0 || v < 0 || v > kMaxRecvSpinUs)
            throw InvalidArgument(std::string("HORUS_RECV_SPIN_US='") + env +
                                  "' is invalid: expected whole microseconds from 0 to " +
                                  std::to_string(kMaxRecvSpinUs) + " (0 = always sleep at once)");
        return std::chrono::nanoseconds(std::chrono::microseconds(v));
    }();
    return spin;
}

uint32_t TopicRing::default_capacity(uint32_t kind) {
    switch (static_cast<MessageKind>(kind)) {
        case MessageKind::Image:
        case MessageKind::DepthImage:
        case MessageKind::PointCloud: return kDefaultSensorCapacity;
        case MessageKind::Tensor:
        case MessageKind::Record:
        case MessageKind::Data: break;
    }
    return kDefaultCapacity;
}

void validate_capacity(int64_t capacity) {
    if (capacity < 1 || capacity > tl::kMaxCapacity || (capacity & (capacity - 1)) != 0)
        throw InvalidArgument("capacity = " + std::to_string(capacity) +
                              " is invalid: it must be a power of two from 1 to " + std::to_string(tl::kMaxCapacity));
}

std::shared_ptr<TopicRing> TopicRing::open(const std::string& name, uint32_t kind, std::optional<uint32_t> capacity,
                                           const RecordLayout* record) {
    validate_topic_name(name);
    if (capacity) validate_capacity(*capacity);
    recv_spin();  // a bad HORUS_RECV_SPIN_US is reported here, not in the first recv()
    if (!kind_valid(kind)) throw InvalidArgument("invalid message kind " + std::to_string(kind));
    Pool::instance();  // the pool outlives every topic of the namespace
    Registry& reg = registry();
    std::lock_guard<std::mutex> g(reg.mutex);
    if (reg.pid != getpid()) {
        reg.rings.clear();  // inherited from the parent: its rings hold the parent's entries
        reg.pid = getpid();
    }
    if (auto ring = reg.rings[name].lock()) {
        {
            RobustLock guard = ring->lock();
            check_type_locked(ring->header_, name, kind, record, TypeUse::Open);
        }
        if (capacity && *capacity != ring->capacity_)
            throw InvalidArgument("topic '" + name + "' already exists with capacity " +
                                  std::to_string(ring->capacity_) + "; asked for " + std::to_string(*capacity));
        if (record) publish_layout_bundle(*record);
        return ring;
    }
    std::shared_ptr<TopicRing> ring(new TopicRing());
    ring->name_ = name;
    ring->session_ = &Session::instance();
    ring->attach(kind, record, capacity);  // on failure the ring never had a header: its destructor does nothing
    reg.rings[name] = ring;
    if (record) publish_layout_bundle(*record);  // for tools that never imported the declaration
    return ring;
}

RobustLock TopicRing::lock() {
    RobustLock guard(header_->mutex, std::nothrow);  // the message is built only on failure
    if (!guard.owns_lock()) throw ShmError("locking topic '" + name_ + "' failed");
    return guard;
}

void TopicRing::attach(uint32_t kind, const RecordLayout* record, std::optional<uint32_t> capacity) {
    const std::string shm = shm_name("topic." + name_);
    Session& session = Session::instance();
    for (int attempt = 0; attempt < 200; ++attempt) {
        const uint32_t cap = capacity.value_or(default_capacity(kind));
        // Created under the namespace lock, so a reconciler (which holds it) sees every topic.
        ShmObject seg;
        {
            RobustLock ns_lock = session.lock_namespace();
            seg = ShmObject::create_exclusive(shm, tl::topic_bytes(cap));
            if (seg.valid()) initialise_topic(static_cast<tl::TopicHeader*>(seg.data()), kind, cap, name_);
        }
        uint32_t checked_capacity = cap;  // read once and validated: later header reads are not trusted
        if (!seg.valid()) {
            try {
                seg = ShmObject::open_existing(shm);
            } catch (const ShmEmpty&) {
                ShmObject::unlink(shm);  // its creator died before sizing it
                continue;
            }
            if (!seg.valid()) {
                retry_backoff(attempt);
                continue;
            }
            auto* h = static_cast<tl::TopicHeader*>(seg.data());
            if (seg.size() < sizeof(tl::TopicHeader))
                throw ShmError("'/dev/shm" + shm + "' is too small to be a horus topic (" + std::to_string(seg.size()) +
                               " bytes); run `horus clean --force`");
            auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
            while (h->ready.load(std::memory_order_acquire) == 0 && std::chrono::steady_clock::now() < deadline)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            if (h->ready.load(std::memory_order_acquire) == 0) {
                ShmObject::unlink(shm);  // its creator died before finishing it
                continue;
            }
            checked_capacity = topic_segment_capacity(seg);
            if (checked_capacity == 0)
                throw ShmError("'/dev/shm" + shm + "' is not a valid horus topic of this version "
                               "(bad magic, version, capacity or size); run `horus clean --force`");
        }
        auto* h = static_cast<tl::TopicHeader*>(seg.data());
        // Nothing is stored in this ring until every check passed: a refused open must
        // leave the topic exactly as it was for its other users.
        uint32_t user = 0;
        const ProcessRef me = session.self();
        {
            RobustLock guard(h->mutex, ("topic '" + name_ + "'").c_str());
            if (h->destroyed.load(std::memory_order_acquire)) {
                guard.unlock();
                // Its last user is tearing it down (then the name is gone in a moment), or
                // died doing so: after a few tries, reclamation removes the leftover.
                if (attempt >= 2) session.reclaim();
                retry_backoff(attempt);
                continue;
            }
            check_type_locked(h, name_, kind, record, TypeUse::Open);
            if (capacity && *capacity != checked_capacity)
                throw InvalidArgument("topic '" + name_ + "' already exists with capacity " +
                                      std::to_string(checked_capacity) + "; asked for " + std::to_string(*capacity));
            user = claim_user(h, me, name_);
        }
        shm_ = std::move(seg);
        header_ = h;
        capacity_ = checked_capacity;
        slots_ = slots_of(shm_.data());
        user_slot_ = user;
        member_ = me;
        return;
    }
    throw ShmError("could not open topic '" + name_ + "': it kept vanishing or being torn down for 200 attempts");
}

void TopicRing::ensure_member() {
    const ProcessRef me = session_->self();
    if (me == member_) return;
    session_->require_attached();
    RobustLock guard = lock();
    user_slot_ = claim_user(header_, me, name_);  // a forked child joins as itself
    member_ = me;
}

TopicRing::~TopicRing() { leave(); }

void TopicRing::leave() noexcept {
    if (!header_) return;  // never attached
    const ProcessRef me = session_->self();
    if (!(me == member_)) return;  // inherited through fork: the entry is the parent's
    RobustLock guard(header_->mutex, std::nothrow);
    if (!guard.owns_lock()) return;  // the next reaper frees our entry
    tl::TopicUser& user = header_->users[user_slot_];
    if (live(user.state) && user.slot == me.slot && user.incarnation == me.incarnation)
        user.state.store(static_cast<uint32_t>(tl::EntryState::Free), std::memory_order_release);
    if (!reap_dead_users(header_)) {
        try {
            destroy_topic(Pool::instance(), header_, slots_, capacity_, shm_name("topic." + name_));
        } catch (...) {
            // Pool unreachable (detached at exit): reclamation tears the topic down.
        }
    }
    // guard unlocks here, before shm_ unmaps the mutex (members are destroyed after).
}

uint32_t TopicRing::kind() const { return header_->kind.load(std::memory_order_acquire); }

uint64_t TopicRing::type_hash() const { return header_->type_hash.load(std::memory_order_acquire); }

std::string TopicRing::type_name() const {
    if (type_hash() == 0) return {};
    return printable(header_->type_name, tl::kTypeNameCapacity);
}

std::string TopicRing::type_description() const {
    RobustLock guard(header_->mutex, std::nothrow);  // (the text is written once; the lock is for the reader's peace)
    return topic_type_str(header_);
}

uint64_t TopicRing::write_sequence() const { return header_->write_seq.load(std::memory_order_seq_cst); }

}  // namespace horus

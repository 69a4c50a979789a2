// topic_ring.cpp — the shared-memory ring of one topic (see topic_ring.hpp, topic_layout.hpp).
#include "horus/topic_ring.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sched.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <vector>

#include "horus/error.hpp"
#include "horus/futex.hpp"
#include "horus/pool.hpp"
#include "horus/process_identity.hpp"
#include "horus/robust_mutex.hpp"
#include "horus/shm_namespace.hpp"

namespace horus {
namespace tl = topic_layout;
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

std::string kind_str(uint32_t kind) {
    return kind == 0 ? std::string("untyped") : std::string(kind_name(static_cast<MessageKind>(kind)));
}

void store_descriptor(tl::TopicSlot& slot, const TensorDescriptor& d) {
    uint64_t words[tl::kDescriptorWords];
    std::memcpy(words, &d, sizeof d);
    for (std::size_t i = 0; i < tl::kDescriptorWords; ++i)
        std::atomic_ref<uint64_t>(slot.words[i]).store(words[i], std::memory_order_relaxed);
}

TensorDescriptor load_descriptor(tl::TopicSlot& slot) {
    uint64_t words[tl::kDescriptorWords];
    for (std::size_t i = 0; i < tl::kDescriptorWords; ++i)
        words[i] = std::atomic_ref<uint64_t>(slot.words[i]).load(std::memory_order_relaxed);
    TensorDescriptor d;
    std::memcpy(&d, words, sizeof d);
    return d;
}

// Bumped in the child after every fork(): see TopicRing::fork_epoch().
std::atomic<uint32_t> g_fork_epoch{0};
[[maybe_unused]] const bool kForkEpochCounted =
    pthread_atfork(nullptr, nullptr, [] { g_fork_epoch.fetch_add(1, std::memory_order_relaxed); }) == 0;

// Whenever the pool reclaims dead processes it also tears down topics whose users all died.
[[maybe_unused]] const bool kTopicsReclaimedWithPool = (Pool::set_extra_reclaimer(&reclaim_topics_locked), true);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

bool kind_valid(uint32_t k) { return k <= static_cast<uint32_t>(MessageKind::PointCloud); }

/// The capacity of the topic in `seg` if it is a topic of this version whose header and
/// size agree, else 0. Callers use the returned value, never a second read of the header.
uint32_t topic_segment_capacity(const ShmSegment& seg) {
    if (seg.size() < sizeof(tl::TopicHeader)) return 0;
    const auto* h = static_cast<const tl::TopicHeader*>(seg.data());
    const uint32_t c = h->capacity;
    const bool ok = h->magic == tl::kTopicMagic && h->version == tl::kTopicVersion &&
                    h->header_size == sizeof(tl::TopicHeader) && c != 0 && c <= tl::kMaxCapacity &&
                    (c & (c - 1)) == 0 && seg.size() == tl::topic_bytes(c) && kind_valid(h->kind.load());
    return ok ? c : 0;
}

tl::TopicSlot* slots_of(void* base) {
    return reinterpret_cast<tl::TopicSlot*>(static_cast<std::byte*>(base) + sizeof(tl::TopicHeader));
}

/// Under the topic mutex: lowers subscriber_limit past the free entries at its top.
void shrink_subscriber_limit(tl::TopicHeader* h) {
    uint32_t limit = std::min(h->subscriber_limit, tl::kMaxSubscribers);
    while (limit > 0 && h->subscribers[limit - 1].state.load(std::memory_order_relaxed) == 0) --limit;
    h->subscriber_limit = limit;
}

/// Under the topic mutex: frees the entries of users that died and the subscriber
/// entries of processes that are no longer users; recounts overflow_subscribers.
/// True if a live user remains.
bool reap_dead_users(tl::TopicHeader* h) {
    bool anyone = false;
    uint32_t overflow = 0;
    for (auto& user : h->users)
        if (user.state.load() == 1) {
            if (is_alive(ProcessIdentity{user.pid, user.start_time})) {
                anyone = true;
                overflow += user.overflow_subscribers;
            } else {
                user.overflow_subscribers = 0;
                user.state.store(0);
            }
        }
    h->overflow_subscribers = overflow;
    auto is_user = [h](const tl::TopicSubscriber& sub) {
        for (const auto& user : h->users)
            if (user.state.load() == 1 && user.pid == sub.pid && user.start_time == sub.start_time) return true;
        return false;
    };
    const uint32_t limit = std::min(h->subscriber_limit, tl::kMaxSubscribers);
    for (uint32_t i = 0; i < limit; ++i)
        if (h->subscribers[i].state.load() == 1 && !is_user(h->subscribers[i])) h->subscribers[i].state.store(0);
    shrink_subscriber_limit(h);
    return anyone;
}

/// True if `slot` is complete and owns a ring reference on its block (under the mutex).
bool slot_holds_ref(const tl::TopicSlot& slot) {
    const uint64_t seq = slot.seq.load(std::memory_order_acquire);
    return seq != 0 && seq % 2 == 0 && slot.holds_ref.load(std::memory_order_relaxed) != 0;
}

/// Under the topic mutex, once no user is left: marks the topic destroyed (attachers
/// start over), drops the ring references its slots hold, and unlinks it.
void destroy_topic(Pool& pool, tl::TopicHeader* h, tl::TopicSlot* slots, uint32_t capacity,
                   const std::string& shm) {
    h->destroyed.store(1, std::memory_order_release);
    for (uint32_t i = 0; i < capacity; ++i)
        if (slot_holds_ref(slots[i])) {
            slots[i].holds_ref.store(0, std::memory_order_relaxed);
            pool.remove_ring_ref(load_descriptor(slots[i]).block);
        }
    ShmSegment::unlink(shm);
}

/// Holds the namespace lock (the pool's control mutex) for a scope.
class NamespaceLock {
  public:
    explicit NamespaceLock(Pool& pool) : pool_(pool) { pool_.lock_namespace(); }
    ~NamespaceLock() { pool_.unlock_namespace(); }
    NamespaceLock(const NamespaceLock&) = delete;
    NamespaceLock& operator=(const NamespaceLock&) = delete;

  private:
    Pool& pool_;
};

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

// A dead holder counts as released (see publish(): a dead publisher's slot is not trusted).
int lock_topic(tl::TopicHeader* h) { return lock_robust_mutex(h->mutex); }

}  // namespace

void validate_topic_name(const std::string& name) {
    bool ok = !name.empty() && name.size() <= tl::kMaxNameLength;
    for (char c : name)
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-');
    if (!ok)
        throw InvalidArgument("topic name '" + name + "' is invalid: use 1-" +
                              std::to_string(tl::kMaxNameLength) +
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
        case MessageKind::Tensor: break;
    }
    return kDefaultCapacity;
}

void validate_capacity(int64_t capacity) {
    if (capacity < 1 || capacity > tl::kMaxCapacity || (capacity & (capacity - 1)) != 0)
        throw InvalidArgument("capacity = " + std::to_string(capacity) +
                              " is invalid: it must be a power of two from 1 to " +
                              std::to_string(tl::kMaxCapacity));
}

std::shared_ptr<TopicRing> TopicRing::open(const std::string& name, uint32_t kind,
                                           std::optional<uint32_t> capacity) {
    validate_topic_name(name);
    if (capacity) validate_capacity(*capacity);
    recv_spin();  // a bad HORUS_RECV_SPIN_US is reported here, not in the first recv()
    if (!kind_valid(kind)) throw InvalidArgument("invalid message kind " + std::to_string(kind));
    Pool::instance();  // the pool outlives every topic of the namespace
    Registry& reg = registry();
    std::lock_guard<std::mutex> g(reg.mutex);
    if (reg.pid != getpid()) {
        reg.rings.clear();  // inherited from the parent: not ours
        reg.pid = getpid();
    }
    if (auto ring = reg.rings[name].lock()) {
        const uint32_t k = ring->kind();
        if (kind != 0 && k != 0 && k != kind)
            throw TypeMismatch("topic '" + name + "' carries " + kind_str(k) + " messages; cannot open it for " +
                               kind_str(kind));
        if (kind != 0 && k == 0) {
            uint32_t expected = 0;
            ring->header_->kind.compare_exchange_strong(expected, kind);
            if (expected != 0 && expected != kind)
                throw TypeMismatch("topic '" + name + "' carries " + kind_str(expected) +
                                   " messages; cannot open it for " + kind_str(kind));
        }
        if (capacity && *capacity != ring->capacity_)
            throw InvalidArgument("topic '" + name + "' already exists with capacity " +
                                  std::to_string(ring->capacity_) + "; asked for " + std::to_string(*capacity));
        return ring;
    }
    std::shared_ptr<TopicRing> ring(new TopicRing());
    ring->name_ = name;
    ring->attach(kind, capacity);
    reg.rings[name] = ring;
    return ring;
}

void TopicRing::lock() {
    if (int r = lock_topic(header_); r != 0)
        throw ShmError("locking topic '" + name_ + "' failed: " + std::strerror(r));
}

void TopicRing::unlock() { pthread_mutex_unlock(&header_->mutex); }

void TopicRing::attach(uint32_t kind, std::optional<uint32_t> capacity) {
    const std::string shm = shm_name("topic." + name_);
    const ProcessIdentity me = current_process();
    for (int attempt = 0; attempt < 100; ++attempt) {
        const uint32_t cap = capacity.value_or(default_capacity(kind));
        // Created under the namespace lock, so a reconciler (which holds it) sees every topic.
        ShmSegment seg;
        {
            NamespaceLock ns_lock(Pool::instance());
            seg = ShmSegment::create_exclusive(shm, tl::topic_bytes(cap));
            if (seg.valid()) initialise_topic(static_cast<tl::TopicHeader*>(seg.data()), kind, cap, name_);
        }
        auto* h = static_cast<tl::TopicHeader*>(seg.data());
        uint32_t checked_capacity = cap;  // read once and validated: later header reads are not trusted
        if (!seg.valid()) {
            seg = ShmSegment::open_existing(shm);
            if (!seg.valid()) continue;
            h = static_cast<tl::TopicHeader*>(seg.data());
            if (seg.size() < sizeof(tl::TopicHeader))
                throw ShmError("'/dev/shm" + shm + "' is too small to be a horus topic (" +
                               std::to_string(seg.size()) + " bytes); run `horus clean --force`");
            auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
            while (h->ready.load(std::memory_order_acquire) == 0 && std::chrono::steady_clock::now() < deadline)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            if (h->ready.load(std::memory_order_acquire) == 0) {
                ShmSegment::unlink(shm);  // its creator died before finishing it
                continue;
            }
            checked_capacity = topic_segment_capacity(seg);
            if (checked_capacity == 0)
                throw ShmError("'/dev/shm" + shm + "' is not a valid horus topic of this version "
                               "(bad magic, version, capacity or size); run `horus clean --force`");
        }
        shm_ = std::move(seg);
        header_ = h;
        capacity_ = checked_capacity;
        slots_ = reinterpret_cast<tl::TopicSlot*>(static_cast<std::byte*>(shm_.data()) + sizeof(tl::TopicHeader));
        lock();
        if (header_->destroyed.load(std::memory_order_acquire)) {
            unlock();
            header_ = nullptr;
            shm_ = ShmSegment();
            std::this_thread::sleep_for(std::chrono::microseconds(100));
            continue;  // its last user is tearing it down: start over
        }
        uint32_t k = header_->kind.load();
        if (kind != 0 && k == 0) header_->kind.store(k = kind);
        if (kind != 0 && k != kind) {
            unlock();
            throw TypeMismatch("topic '" + name_ + "' carries " + kind_str(k) + " messages; cannot open it for " +
                               kind_str(kind));
        }
        if (capacity && *capacity != capacity_) {
            unlock();
            throw InvalidArgument("topic '" + name_ + "' already exists with capacity " +
                                  std::to_string(capacity_) + "; asked for " + std::to_string(*capacity));
        }
        reap_dead_users(header_);  // users that died without closing the topic
        uint32_t free_slot = tl::kMaxUsers;
        for (uint32_t u = 0; u < tl::kMaxUsers && free_slot == tl::kMaxUsers; ++u)
            if (header_->users[u].state.load() == 0) free_slot = u;
        if (free_slot == tl::kMaxUsers) {
            unlock();
            throw ShmError("topic '" + name_ + "' already has " + std::to_string(tl::kMaxUsers) +
                           " processes attached (the maximum)");
        }
        header_->users[free_slot].pid = me.pid;
        header_->users[free_slot].start_time = me.start_time;
        header_->users[free_slot].overflow_subscribers = 0;
        header_->users[free_slot].state.store(1, std::memory_order_release);
        user_slot_ = free_slot;
        unlock();
        return;
    }
    throw ShmError("could not open topic '" + name_ + "' after 100 attempts");
}

TopicRing::~TopicRing() { leave(); }

void TopicRing::leave() noexcept {
    if (!header_ || registry().pid != getpid()) return;  // not ours (inherited through fork)
    try {
        lock();
        header_->users[user_slot_].state.store(0, std::memory_order_release);
        if (!reap_dead_users(header_))
            destroy_topic(Pool::instance(), header_, slots_, capacity_, shm_name("topic." + name_));
        unlock();
    } catch (...) {
        // Leaving runs from destructors; the next user reaps our entry if this failed.
    }
}

uint32_t TopicRing::fork_epoch() { return g_fork_epoch.load(std::memory_order_relaxed); }

uint32_t TopicRing::add_subscriber(uint64_t cursor) {
    // Not users[user_slot_]: after fork() a child may subscribe through a ring it inherited,
    // and its entry must name the child (so it is reaped with the child).
    const ProcessIdentity me = current_process();
    lock();
    tl::TopicHeader* h = header_;
    uint32_t entry = kOverflowEntry;
    for (uint32_t i = 0; i < tl::kMaxSubscribers; ++i)
        if (h->subscribers[i].state.load(std::memory_order_relaxed) == 0) {
            entry = i;
            break;
        }
    if (entry == kOverflowEntry) {
        ++h->users[user_slot_].overflow_subscribers;
        ++h->overflow_subscribers;
    } else {
        tl::TopicSubscriber& sub = h->subscribers[entry];
        sub.pid = me.pid;
        sub.start_time = me.start_time;
        sub.cursor.store(cursor, std::memory_order_relaxed);
        sub.state.store(1, std::memory_order_relaxed);
        h->subscriber_limit = std::max(std::min(h->subscriber_limit, tl::kMaxSubscribers), entry + 1);
    }
    unlock();
    return entry;
}

void TopicRing::remove_subscriber(uint32_t entry) noexcept {
    if (!header_) return;
    try {
        lock();
    } catch (...) {
        return;  // the entry is freed with our user entry when the topic is next reaped
    }
    tl::TopicHeader* h = header_;
    if (entry == kOverflowEntry) {
        if (h->users[user_slot_].overflow_subscribers > 0) --h->users[user_slot_].overflow_subscribers;
        if (h->overflow_subscribers > 0) --h->overflow_subscribers;
    } else if (entry < tl::kMaxSubscribers) {
        h->subscribers[entry].state.store(0, std::memory_order_relaxed);
        shrink_subscriber_limit(h);
    }
    unlock();
}

void TopicRing::release_read_locked(Pool& pool, uint64_t newest) {
    tl::TopicHeader* h = header_;
    if (h->overflow_subscribers != 0) return;  // a subscriber we cannot see: keep everything
    uint64_t until = newest;                    // the newest message is never released early
    const uint32_t limit = std::min(h->subscriber_limit, tl::kMaxSubscribers);
    for (uint32_t i = 0; i < limit; ++i) {
        const tl::TopicSubscriber& sub = h->subscribers[i];
        if (sub.state.load(std::memory_order_relaxed) == 1)
            until = std::min(until, sub.cursor.load(std::memory_order_acquire));
    }
    // Older messages were overwritten. (Written so that a corrupt write_seq near 2^64
    // cannot wrap it: then the loop below would not end; found by fuzz_topic.)
    const uint64_t oldest = newest >= capacity_ ? newest - capacity_ + 1 : 0;
    uint64_t from = h->release_seq;
    if (from < oldest || from > newest) from = oldest;  // (also a corrupt value: never trusted)
    for (uint64_t m = from; m < until; ++m) {  // at most capacity_ messages: oldest <= from <= until <= newest
        tl::TopicSlot& slot = slots_[m & (capacity_ - 1)];
        if (slot.seq.load(std::memory_order_relaxed) != 2 * m + 2 ||
            slot.holds_ref.load(std::memory_order_relaxed) == 0)
            continue;
        const BlockRef block = load_descriptor(slot).block;
        // Flag first: a publisher killed between the two leaves a count one too high,
        // which reclamation repairs (it counts flagged slots), never one too low.
        slot.holds_ref.store(0, std::memory_order_relaxed);
        pool.remove_ring_ref(block);
    }
    h->release_seq = std::max(from, until);
}

uint32_t TopicRing::kind() const { return header_->kind.load(std::memory_order_acquire); }

uint64_t TopicRing::write_sequence() const { return header_->write_seq.load(std::memory_order_seq_cst); }

void TopicRing::publish(Message& msg) {
    const uint32_t mk = static_cast<uint32_t>(msg.kind());
    uint32_t k = header_->kind.load(std::memory_order_acquire);
    if (k == 0 && !header_->kind.compare_exchange_strong(k, mk)) {
        // someone typed the topic meanwhile; k now holds that kind
    } else if (k == 0) {
        k = mk;
    }
    if (k != mk)
        throw TypeMismatch("topic '" + name_ + "' carries " + kind_str(k) + " messages; cannot send a " +
                           kind_str(mk));
    Pool& pool = Pool::instance();
    const TensorDescriptor& d = msg.descriptor();
    // Ring references are taken and dropped only under the topic mutex, so whoever holds
    // every topic mutex (reclaim_topics_locked) sees exactly the references the slots
    // hold, and can repair counts a publisher killed mid-send left behind.
    lock();
    if (!pool.add_ring_ref(d.block)) {
        unlock();
        throw Error("cannot send on topic '" + name_ + "': the message is already held by " +
                    std::to_string(block_word::kRingMax) +
                    " topic slots (send a copy(), or use topics with smaller capacity)");
    }
    msg.mark_shared();
    const uint64_t s = header_->write_seq.load(std::memory_order_relaxed);
    tl::TopicSlot& slot = slots_[s & (capacity_ - 1)];
    // An odd seq means a publisher died mid-write: its descriptor is not trusted (the
    // reconciliation after its death fixes the counts instead). A slot released early
    // (holds_ref 0) has no reference left to drop.
    const bool release_overwritten = slot_holds_ref(slot);
    const TensorDescriptor overwritten = release_overwritten ? load_descriptor(slot) : TensorDescriptor{};
    slot.holds_ref.store(0, std::memory_order_relaxed);
    slot.seq.store(2 * s + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    store_descriptor(slot, d);
    slot.holds_ref.store(1, std::memory_order_relaxed);
    slot.seq.store(2 * s + 2, std::memory_order_release);
    header_->write_seq.store(s + 1, std::memory_order_seq_cst);
    if (release_overwritten) pool.remove_ring_ref(overwritten.block);
    release_read_locked(pool, s);
    unlock();

    header_->futex_word.fetch_add(1, std::memory_order_seq_cst);
    if (header_->waiters.load(std::memory_order_seq_cst) > 0) futex_wake_all(header_->futex_word);
}

bool TopicRing::try_read(uint64_t& cursor, uint64_t& dropped, TensorDescriptor& desc, Block& block) {
    Pool& pool = Pool::instance();
    for (;;) {
        const uint64_t ws = header_->write_seq.load(std::memory_order_seq_cst);
        if (cursor >= ws) {
            cursor = ws;
            return false;
        }
        if (ws - cursor > capacity_) {
            dropped += ws - cursor - capacity_;
            cursor = ws - capacity_;
        }
        tl::TopicSlot& slot = slots_[cursor & (capacity_ - 1)];
        const uint64_t expect = 2 * cursor + 2;
        const uint64_t s1 = slot.seq.load(std::memory_order_acquire);
        if (s1 != expect) {
            // s1 > expect: overwritten before we got to it. s1 < expect cannot be
            // written by a correct publisher once write_seq passed it (seq is stored,
            // release, before write_seq); it means a corrupt ring. This used to
            // yield and retry, spinning forever (found by fuzz_topic): skip it.
            ++dropped;
            ++cursor;
            continue;
        }
        TensorDescriptor d = load_descriptor(slot);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (slot.seq.load(std::memory_order_relaxed) != s1) {
            ++dropped;
            ++cursor;
            continue;
        }
        Block b;
        try {
            b = pool.acquire(d.block);
        } catch (const StaleReference&) {
            ++dropped;  // freed before we could take it: the message is gone
            ++cursor;
            continue;
        } catch (const ShmError&) {
            ++dropped;  // a corrupt reference (bad segment/block): never trusted
            ++cursor;
            continue;
        }
        if (slot.seq.load(std::memory_order_acquire) != s1) {
            ++dropped;  // overwritten while we acquired: the block may be another message's
            ++cursor;
            continue;
        }
        desc = d;
        block = std::move(b);
        ++cursor;
        return true;
    }
}

void TopicRing::wait(uint64_t cursor, std::chrono::nanoseconds timeout) {
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + timeout;
    // Spin first: a message that comes within recv_spin() is taken without the
    // futex sleep and wake-up, which cost microseconds per hop when the two
    // processes run on different cores (tens of microseconds on some VMs).
    const auto spin_until = start + std::min(timeout, recv_spin());
    // Every 256 polls it yields, so a publisher sharing our core is not held up.
    for (unsigned n = 1;; ++n) {
        if (header_->write_seq.load(std::memory_order_acquire) > cursor) return;
        if (n % 64 == 0) {
            if (std::chrono::steady_clock::now() >= spin_until) break;
            if (n % 256 == 0) sched_yield();
        }
        cpu_relax();
    }
    for (;;) {
        if (header_->write_seq.load(std::memory_order_seq_cst) > cursor) return;
        const uint32_t w = header_->futex_word.load(std::memory_order_seq_cst);
        header_->waiters.fetch_add(1, std::memory_order_seq_cst);
        if (header_->write_seq.load(std::memory_order_seq_cst) > cursor) {
            header_->waiters.fetch_sub(1, std::memory_order_seq_cst);
            return;
        }
        const auto left = deadline - std::chrono::steady_clock::now();
        if (left.count() > 0) futex_wait(header_->futex_word, w, left);
        header_->waiters.fetch_sub(1, std::memory_order_seq_cst);
        if (std::chrono::steady_clock::now() >= deadline) return;
    }
}

std::size_t reclaim_topics_locked(Pool& pool) {
    struct Locked {
        ShmSegment seg;
        tl::TopicHeader* header;
        uint32_t capacity;
        std::string shm;
    };
    const std::string prefix = shm_file_prefix(shm_namespace()) + "topic.";
    std::vector<std::string> objects = list_objects_with_prefix(prefix);
    std::sort(objects.begin(), objects.end());  // one lock order for every reclaimer
    std::vector<Locked> locked;
    for (const std::string& object : objects) {
        ShmSegment seg = ShmSegment::open_existing("/" + object);
        const uint32_t capacity = seg.valid() ? topic_segment_capacity(seg) : 0;
        if (capacity == 0) continue;  // foreign, corrupt or half-made: never trusted
        auto* h = static_cast<tl::TopicHeader*>(seg.data());
        if (h->ready.load(std::memory_order_acquire) == 0 || lock_topic(h) != 0) continue;
        locked.push_back({std::move(seg), h, capacity, "/" + object});
    }
    // Every topic is locked and none can be created (the caller holds the namespace
    // lock): the complete slots are exactly the ring references that exist.
    std::size_t reclaimed = 0;
    Pool::RingCounts truth;
    for (Locked& t : locked) {
        if (t.header->destroyed.load(std::memory_order_acquire)) continue;
        tl::TopicSlot* slots = slots_of(t.seg.data());
        if (!reap_dead_users(t.header)) {
            destroy_topic(pool, t.header, slots, t.capacity, t.shm);  // every user died
            ++reclaimed;
            continue;
        }
        for (uint32_t i = 0; i < t.capacity; ++i) {
            // Empty, a dead publisher's half-written slot, or released early: no reference.
            if (!slot_holds_ref(slots[i])) continue;
            const BlockRef r = load_descriptor(slots[i]).block;
            auto& entry = truth[(uint64_t{r.segment} << 32) | r.index];
            const uint32_t gen = r.generation & block_word::kGenMax;
            if (entry.second == 0 || entry.first == gen) {
                entry.first = gen;
                ++entry.second;
            }
        }
    }
    reclaimed += pool.reconcile_ring_counts_locked(truth);
    for (Locked& t : locked) pthread_mutex_unlock(&t.header->mutex);
    return reclaimed;
}

}  // namespace horus

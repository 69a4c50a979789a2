// pool.cpp — the shared-memory pool (see pool.hpp, pool_layout.hpp, block_word.hpp).
#include "horus/pool.hpp"

#include <bit>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>
#include <sys/statvfs.h>
#include <thread>

#include "horus/error.hpp"
#include "horus/process_identity.hpp"
#include "horus/robust_mutex.hpp"
#include "horus/shm_namespace.hpp"

namespace horus {
namespace bw = block_word;
namespace {

constexpr uint64_t kMinBlock = 256;
constexpr uint32_t kMaxClass = (40 - 8) * 4;      // blocks up to 1 TiB
constexpr uint64_t kSegmentTarget = 16ull << 20;  // aim for ~16 MiB segments (their pages are reserved up front)
constexpr uint32_t kMaxBlocksPerSegment = 1024;
constexpr uint32_t kNoSegment = UINT32_MAX;

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

std::string bytes_str(uint64_t b) { return std::to_string(b) + " B"; }

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
    if (errno != 0 || end == env || mult == 0 || v == 0 || v > (1ull << 50) / mult)
        throw InvalidArgument(std::string("HORUS_POOL_MAX_BYTES='") + env +
                              "' is not a size between 1 and 2^50 bytes (e.g. 536870912, 512M, 4G)");
    return v * mult;
}

uint32_t blocks_per_segment(uint64_t block_size) {
    uint64_t n = kSegmentTarget / block_size;
    if (n < 1) n = 1;
    if (n > kMaxBlocksPerSegment) n = kMaxBlocksPerSegment;
    return static_cast<uint32_t>(n);
}

struct SegmentGeometry {
    uint64_t words_offset, payload_offset, total;
};

SegmentGeometry geometry(uint64_t block_size, uint32_t count) {
    SegmentGeometry g{};
    g.words_offset = align_up(sizeof(layout::SegmentHeader), layout::kBlockAlign);
    g.payload_offset = align_up(g.words_offset + uint64_t{count} * 8, layout::kPayloadAlign);
    g.total = g.payload_offset + uint64_t{count} * block_size;
    return g;
}

std::string segment_name(uint32_t index) { return shm_name("seg" + std::to_string(index)); }

/// PoolControl::segment_count as a loop bound: another process can write any
/// value there, and segments[] has kMaxSegments entries (a count above it made
/// allocate() read past the segment table; found by fuzz_pool).
uint32_t segment_count(const layout::PoolControl* ctl,
                       std::memory_order order = std::memory_order_acquire) {
    const uint32_t n = ctl->segment_count.load(order);
    return n < layout::kMaxSegments ? n : layout::kMaxSegments;
}

/// Applies `transition` to `word` by CAS until it succeeds or declines (nullopt).
/// Returns the word written, or nullopt if the transition declined.
template <typename F>
std::optional<uint64_t> update_word(std::atomic<uint64_t>& word, F transition) {
    uint64_t w = word.load(std::memory_order_acquire);
    for (;;) {
        std::optional<uint64_t> next = transition(w);
        if (!next) return std::nullopt;
        if (word.compare_exchange_weak(w, *next, std::memory_order_acq_rel,
                                       std::memory_order_acquire))
            return next;
    }
}

class ControlLock {
  public:
    ControlLock(Pool& pool, void (Pool::*lock)(), void (Pool::*unlock)())
        : pool_(pool), unlock_(unlock) {
        (pool_.*lock)();
    }
    ~ControlLock() { (pool_.*unlock_)(); }

  private:
    Pool& pool_;
    void (Pool::*unlock_)();
};

Pool* g_pool = nullptr;

}  // namespace

// ---- size classes -------------------------------------------------------------

uint64_t Pool::class_block_size(uint32_t size_class) {
    uint32_t exp = 8 + size_class / 4;
    uint64_t base = uint64_t{1} << exp;
    return base + (size_class % 4) * (base / 4);
}

uint32_t Pool::size_class_for(uint64_t bytes) {
    if (bytes <= kMinBlock) return 0;
    uint32_t exp = 63 - static_cast<uint32_t>(std::countl_zero(bytes - 1));  // 2^exp < bytes <= 2^(exp+1)
    uint64_t base = uint64_t{1} << exp;
    uint64_t step = base / 4;
    uint64_t q = (bytes - base + step - 1) / step;  // 1..4
    if (q == 4) return (exp + 1 - 8) * 4;
    return (exp - 8) * 4 + static_cast<uint32_t>(q);
}

// ---- attach / detach ------------------------------------------------------------

Pool& Pool::instance() {
    static Pool* pool = [] {
        auto* p = new Pool();  // never deleted: handles may outlive static destruction
        try {
            p->attach();
        } catch (...) {
            delete p;
            throw;
        }
        g_pool = p;
        std::atexit([] { g_pool->detach(); });
        pthread_atfork(
            [] {
                g_pool->map_mutex_.lock();
                g_pool->local_mutex_.lock();
            },
            [] {
                g_pool->local_mutex_.unlock();
                g_pool->map_mutex_.unlock();
            },
            [] {
                g_pool->local_mutex_.unlock();
                g_pool->map_mutex_.unlock();
                g_pool->after_fork_in_child();
            });
        return p;
    }();
    return *pool;
}

Pool::Pool() : max_bytes_(parse_max_bytes()) {}

void Pool::lock_control() {
    // A holder that died mid-operation counts as released: every operation under this
    // mutex is idempotent, so the state is usable as it is.
    if (int r = lock_robust_mutex(control_->mutex); r != 0)
        throw ShmError(std::string("locking the pool control mutex failed: ") + std::strerror(r));
}

void Pool::unlock_control() { pthread_mutex_unlock(&control_->mutex); }

void Pool::attach() {
    const std::string name = shm_name("pool");
    const ProcessIdentity me = current_process();
    for (int attempt = 0; attempt < 100; ++attempt) {
        ShmSegment shm = ShmSegment::create_exclusive(name, sizeof(layout::PoolControl));
        auto* ctl = static_cast<layout::PoolControl*>(shm.data());
        if (shm.valid()) {
            ctl->magic = layout::kControlMagic;
            ctl->version = layout::kLayoutVersion;
            ctl->control_size = sizeof(layout::PoolControl);
            init_robust_mutex(ctl->mutex);
            ctl->ready.store(1, std::memory_order_release);
        } else {
            shm = ShmSegment::open_existing(name);
            if (!shm.valid()) continue;  // vanished or half-created: try again
            ctl = static_cast<layout::PoolControl*>(shm.data());
            if (shm.size() < sizeof(layout::PoolControl))
                throw ShmError("'/dev/shm" + name + "' is " + std::to_string(shm.size()) +
                               " bytes, not a horus pool control block of " +
                               std::to_string(sizeof(layout::PoolControl)) +
                               " bytes (foreign or from another horus version); run `horus clean --force`");
            auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
            while (ctl->ready.load(std::memory_order_acquire) == 0 &&
                   std::chrono::steady_clock::now() < deadline)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            if (ctl->ready.load(std::memory_order_acquire) == 0) {
                ShmSegment::unlink(name);  // its creator died before finishing it
                continue;
            }
            if (ctl->magic != layout::kControlMagic || ctl->version != layout::kLayoutVersion ||
                ctl->control_size != sizeof(layout::PoolControl))
                throw ShmError("'/dev/shm" + name +
                               "' is not a horus pool of this version (bad magic/version/size); "
                               "run `horus clean --force` to remove it");
        }
        control_shm_ = std::move(shm);
        control_ = ctl;
        lock_control();
        if (control_->destroyed.load(std::memory_order_acquire)) {
            unlock_control();
            control_ = nullptr;
            control_shm_ = ShmSegment();
            std::this_thread::sleep_for(std::chrono::microseconds(100));
            continue;  // the last process is tearing the namespace down: start over
        }
        try {
            reap_and_reclaim_topics_locked();
        } catch (...) {
            // Never leave the control mutex held by a live process: every other
            // process of the namespace would block on it forever (an attach that
            // met a corrupt segment used to do this; found by fuzz_pool).
            unlock_control();
            throw;
        }
        uint32_t slot = layout::kMaxProcesses;
        for (uint32_t s = 0; s < layout::kMaxProcesses; ++s) {
            if (control_->processes[s].state.load(std::memory_order_acquire) == layout::kSlotFree) {
                slot = s;
                break;
            }
        }
        if (slot == layout::kMaxProcesses) {
            unlock_control();
            throw ShmError("namespace '" + shm_namespace() + "' already has " +
                           std::to_string(layout::kMaxProcesses) +
                           " live processes attached (the maximum); use another HORUS_NAMESPACE");
        }
        control_->processes[slot].pid = me.pid;
        control_->processes[slot].start_time = me.start_time;
        control_->processes[slot].state.store(layout::kSlotLive, std::memory_order_release);
        slot_ = slot;
        unlock_control();
        return;
    }
    throw ShmError("could not attach to the pool '/dev/shm" + name + "' after 100 attempts");
}

void Pool::detach() noexcept {
    if (detached_.exchange(true)) return;
    try {
        ControlLock lock(*this, &Pool::lock_control, &Pool::unlock_control);
        reclaim_slot_locked(slot_);
        control_->processes[slot_].state.store(layout::kSlotFree, std::memory_order_release);
        reap_and_reclaim_topics_locked();
        bool anyone = false;
        for (auto& p : control_->processes)
            anyone = anyone || p.state.load(std::memory_order_acquire) == layout::kSlotLive;
        if (!anyone) {
            control_->destroyed.store(1, std::memory_order_release);
            for (const auto& obj : list_namespace_objects(shm_namespace()))
                ShmSegment::unlink("/" + obj);
        }
    } catch (...) {
        // Detaching runs at exit; a failure leaves our slot to the next reclaimer.
    }
}

void Pool::after_fork_in_child() noexcept {
    if (detached_.load()) return;
    try {
        const ProcessIdentity me = current_process();
        ControlLock lock(*this, &Pool::lock_control, &Pool::unlock_control);
        uint32_t slot = layout::kMaxProcesses;
        for (uint32_t s = 0; s < layout::kMaxProcesses; ++s)
            if (control_->processes[s].state.load() == layout::kSlotFree) {
                slot = s;
                break;
            }
        if (slot == layout::kMaxProcesses) {
            detached_ = true;  // no slot: this child cannot use the pool
            return;
        }
        control_->processes[slot].pid = me.pid;
        control_->processes[slot].start_time = me.start_time;
        control_->processes[slot].state.store(layout::kSlotLive, std::memory_order_release);
        // Adopt the blocks inherited from the parent: they are held by our handles too.
        std::lock_guard<std::mutex> g(local_mutex_);
        for (auto& m : mapped_) {
            MappedSegment* seg = m.load();
            if (!seg) continue;
            for (uint32_t i = 0; i < seg->block_count; ++i)
                if (seg->local_counts[i] > 0)
                    update_word(seg->words[i], [slot](uint64_t w) {
                        return bw::add_holder(w, bw::generation(w), slot);
                    });
        }
        slot_ = slot;
    } catch (...) {
        detached_ = true;
    }
}

// ---- reclamation ------------------------------------------------------------------

void Pool::reclaim_slot_locked(uint32_t slot) {
    uint32_t count = segment_count(control_);
    for (uint32_t s = 0; s < count; ++s) {
        MappedSegment* seg = nullptr;
        try {
            seg = segment(s);
        } catch (const ShmError&) {
            continue;  // a corrupt segment is never mapped, so nothing in it is reclaimed
        }
        if (!seg) continue;
        for (uint32_t i = 0; i < seg->block_count; ++i)
            update_word(seg->words[i], [slot](uint64_t w) { return bw::remove_dead_holder(w, slot); });
    }
}

std::size_t Pool::reap_dead_locked() {
    std::size_t reaped = 0;
    for (uint32_t s = 0; s < layout::kMaxProcesses; ++s) {
        auto& p = control_->processes[s];
        if (p.state.load(std::memory_order_acquire) != layout::kSlotLive) continue;
        if (s == slot_ && !detached_.load()) continue;
        if (is_alive(ProcessIdentity{p.pid, p.start_time})) continue;
        reclaim_slot_locked(s);
        p.state.store(layout::kSlotFree, std::memory_order_release);
        control_->reclaimed_processes.fetch_add(1, std::memory_order_relaxed);
        ++reaped;
    }
    return reaped;
}

std::size_t Pool::reap_and_reclaim_topics_locked() {
    std::size_t reclaimed = reap_dead_locked();
    // A dead process may have died inside a topic's send(): repair what it left.
    if (reclaimed > 0)
        if (ExtraReclaimer extra = extra_reclaimer_.load()) reclaimed += extra(*this);
    return reclaimed;
}

std::size_t Pool::reclaim_dead_processes() {
    ControlLock lock(*this, &Pool::lock_control, &Pool::unlock_control);
    std::size_t reclaimed = reap_dead_locked();
    if (ExtraReclaimer extra = extra_reclaimer_.load()) reclaimed += extra(*this);
    return reclaimed;
}

std::size_t Pool::reconcile_ring_counts_locked(const RingCounts& truth) {
    std::size_t fixed = 0;
    for (uint32_t s = 0, n = segment_count(control_); s < n; ++s) {
        MappedSegment* seg = nullptr;
        try {
            seg = segment(s);
        } catch (const ShmError&) {
            continue;  // a corrupt segment is never trusted, nor repaired
        }
        if (!seg) continue;
        for (uint32_t i = 0; i < seg->block_count; ++i) {
            const auto it = truth.find((uint64_t{s} << 32) | i);
            auto next = update_word(seg->words[i], [&](uint64_t w) -> std::optional<uint64_t> {
                if (bw::is_free(w)) return std::nullopt;  // never resurrect a freed block
                uint32_t want = 0;
                if (it != truth.end() && it->second.first == bw::generation(w))
                    want = std::min<uint32_t>(it->second.second, bw::kRingMax);
                if (bw::ring_count(w) == want) return std::nullopt;
                if (bw::holders(w) == 0 && want == 0) return bw::make(bw::generation(w) + 1, 0, 0);
                return bw::make(bw::generation(w), bw::holders(w), want);
            });
            if (!next) continue;
            ++fixed;
            if (bw::is_free(*next)) seg->header->hint.store(i, std::memory_order_relaxed);
        }
    }
    return fixed;
}

// ---- segments ---------------------------------------------------------------------

MappedSegment* Pool::segment(uint32_t index) {
    if (index >= layout::kMaxSegments) return nullptr;
    MappedSegment* seg = mapped_[index].load(std::memory_order_acquire);
    return seg ? seg : map_segment(index);
}

MappedSegment* Pool::map_segment(uint32_t index) {
    std::lock_guard<std::mutex> map_lock(map_mutex_);
    if (MappedSegment* seg = mapped_[index].load(std::memory_order_acquire)) return seg;
    if (index >= control_->segment_count.load(std::memory_order_acquire)) return nullptr;
    const layout::SegmentEntry& e = control_->segments[index];
    if (e.state.load(std::memory_order_acquire) != layout::kSegmentReady) return nullptr;
    const uint64_t block_size = e.block_size;
    const uint32_t count = e.block_count;
    const std::string name = segment_name(index);
    // block_size must be exactly its entry's size class: allocate() picks segments
    // by size_class, so a smaller block would be overrun by the message it holds,
    // and an unchecked huge block_size overflowed geometry()'s total (wrapping to
    // a small size that passed the size check below, found by fuzz_pool).
    const uint32_t size_class = e.size_class;
    if (size_class > kMaxClass || block_size != class_block_size(size_class) || count == 0 ||
        count > kMaxBlocksPerSegment)
        throw ShmError("pool segment table entry " + std::to_string(index) +
                       " is corrupt (block size " + std::to_string(block_size) + ", " +
                       std::to_string(count) + " blocks)");
    const SegmentGeometry g = geometry(block_size, count);
    ShmSegment shm = ShmSegment::open_existing(name);
    if (!shm.valid())
        throw ShmError("pool segment '/dev/shm" + name + "' is listed but missing");
    auto* h = static_cast<layout::SegmentHeader*>(shm.data());
    if (shm.size() != g.total || e.total_bytes != g.total || h->magic != layout::kSegmentMagic ||
        h->version != layout::kLayoutVersion || h->index != index || h->block_size != block_size ||
        h->block_count != count || h->words_offset != g.words_offset ||
        h->payload_offset != g.payload_offset || h->total_bytes != g.total)
        throw ShmError("pool segment '/dev/shm" + name + "' does not match its table entry (size " +
                       std::to_string(shm.size()) + ", expected " + std::to_string(g.total) +
                       "); it is corrupt or foreign");
    auto* seg = new MappedSegment();
    seg->pool = this;
    seg->index = index;
    seg->block_count = count;
    seg->block_size = block_size;
    seg->header = h;
    auto* base = static_cast<std::byte*>(shm.data());
    seg->words = reinterpret_cast<std::atomic<uint64_t>*>(base + g.words_offset);
    seg->payload = base + g.payload_offset;
    seg->local_counts = std::make_unique<uint32_t[]>(count);
    seg->shm = std::move(shm);
    mapped_[index].store(seg, std::memory_order_release);  // never unmapped while we live
    if (mapped_limit_.load(std::memory_order_relaxed) <= index)
        mapped_limit_.store(index + 1, std::memory_order_release);  // only under map_mutex_
    return seg;
}

uint32_t Pool::create_segment(uint32_t size_class, uint64_t bytes) {
    (void)bytes;
    const uint64_t block_size = class_block_size(size_class);
    uint32_t count = blocks_per_segment(block_size);
    const uint32_t index = control_->segment_count.load(std::memory_order_acquire);
    if (index >= layout::kMaxSegments) return kNoSegment;
    const uint64_t reserved = control_->reserved_bytes.load(std::memory_order_acquire);
    // (reserved_bytes is shared: written as max - reserved so a corrupt value cannot wrap.)
    while (count > 0 && (reserved > max_bytes_ || geometry(block_size, count).total > max_bytes_ - reserved))
        count /= 2;
    if (count == 0) return kNoSegment;
    const std::string name = segment_name(index);
    ShmSegment::unlink(name);  // left over from a creator that died before publishing it
    ShmSegment shm;
    // /dev/shm itself may be fuller than our cap assumes (other namespaces, other
    // programs): try smaller segments, down to one block, before giving up.
    for (;; count /= 2) {
        if (count == 0) {
            dev_shm_full_ = true;  // named in the PoolExhausted message
            return kNoSegment;
        }
        try {
            shm = ShmSegment::create_exclusive(name, geometry(block_size, count).total);
            break;
        } catch (const ShmNoSpace&) {
        }
    }
    if (!shm.valid()) throw ShmError("cannot create pool segment '/dev/shm" + name + "'");
    const SegmentGeometry g = geometry(block_size, count);
    auto* h = static_cast<layout::SegmentHeader*>(shm.data());
    h->magic = layout::kSegmentMagic;
    h->version = layout::kLayoutVersion;
    h->index = index;
    h->block_size = block_size;
    h->block_count = count;
    h->hint.store(0, std::memory_order_relaxed);
    h->words_offset = g.words_offset;
    h->payload_offset = g.payload_offset;
    h->total_bytes = g.total;
    // State words start at zero: generation 0, free (ftruncate zero-fills).
    layout::SegmentEntry& e = control_->segments[index];
    e.size_class = size_class;
    e.block_count = count;
    e.block_size = block_size;
    e.total_bytes = g.total;
    e.state.store(layout::kSegmentReady, std::memory_order_release);
    control_->reserved_bytes.fetch_add(g.total, std::memory_order_acq_rel);
    control_->segment_count.store(index + 1, std::memory_order_release);
    return index;  // our mapping closes here; segment() maps it like any other
}

// ---- allocation ---------------------------------------------------------------------

Block Pool::allocate_in(MappedSegment* seg) {
    const uint32_t n = seg->block_count;
    const uint32_t start = seg->header->hint.load(std::memory_order_relaxed) % n;
    for (uint32_t k = 0; k < n; ++k) {
        const uint32_t i = (start + k) % n;
        auto next = update_word(seg->words[i], [this](uint64_t w) { return bw::allocate(w, slot_); });
        if (!next) continue;
        seg->header->hint.store(i + 1 < n ? i + 1 : 0, std::memory_order_relaxed);
        {
            std::lock_guard<std::mutex> g(local_mutex_);
            seg->local_counts[i] = 1;
        }
        return Block(seg, i, bw::generation(*next));
    }
    return {};
}

Block Pool::allocate(std::size_t bytes) {
    if (detached_.load(std::memory_order_relaxed))
        throw ShmError("this process has detached from the horus pool (exit or fork without a free slot)");
    if (bytes == 0) bytes = 1;
    if (bytes > max_bytes_ || size_class_for(bytes) > kMaxClass)
        throw PoolExhausted("horus pool: a message of " + bytes_str(bytes) +
                            " is larger than the pool cap of " + bytes_str(max_bytes_) +
                            "; raise HORUS_POOL_MAX_BYTES (e.g. HORUS_POOL_MAX_BYTES=8G)");
    const uint32_t cls = size_class_for(bytes);
    auto scan = [&](uint32_t from, uint32_t to) -> Block {
        for (uint32_t s = from; s < to; ++s) {
            const layout::SegmentEntry& e = control_->segments[s];
            if (e.state.load(std::memory_order_acquire) != layout::kSegmentReady ||
                e.size_class != cls)
                continue;
            // The mapped (validated) block size decides, not the shared entry,
            // which another process may rewrite after we mapped the segment.
            if (MappedSegment* seg = segment(s))
                if (seg->block_size == class_block_size(cls))
                    if (Block b = allocate_in(seg)) return b;
        }
        return {};
    };
    uint32_t seen = segment_count(control_);
    if (Block b = scan(0, seen)) return b;

    ControlLock lock(*this, &Pool::lock_control, &Pool::unlock_control);
    uint32_t now = segment_count(control_);
    if (Block b = scan(seen, now)) return b;  // someone grew the pool meanwhile
    uint32_t created = create_segment(cls, bytes);
    // At the cap: free what dead processes (and topics all of whose users died) still hold.
    // Lock order control mutex -> topic mutex; no path takes them the other way round.
    ExtraReclaimer extra = extra_reclaimer_.load();
    if (created == kNoSegment && reap_dead_locked() + (extra ? extra(*this) : 0) > 0) {
        if (Block b = scan(0, segment_count(control_))) return b;
        created = create_segment(cls, bytes);
    }
    if (created == kNoSegment) {
        if (Block b = scan(0, segment_count(control_))) return b;  // freed meanwhile
        uint64_t in_use = 0, blocks = 0;
        for (uint32_t s = 0, n = segment_count(control_); s < n; ++s)
            if (MappedSegment* seg = segment(s))
                for (uint32_t i = 0; i < seg->block_count; ++i)
                    if (!bw::is_free(seg->words[i].load(std::memory_order_relaxed))) {
                        ++blocks;
                        in_use += seg->block_size;
                    }
        throw PoolExhausted(
            "horus pool exhausted: asked for " + bytes_str(bytes) + " (a " +
            bytes_str(class_block_size(cls)) + " block); " + bytes_str(in_use) + " in use in " +
            std::to_string(blocks) + " blocks, " +
            bytes_str(control_->reserved_bytes.load()) + " of the cap " + bytes_str(max_bytes_) +
            " reserved (namespace '" + shm_namespace() + "'). " +
            (dev_shm_full_.exchange(false)
                 ? "/dev/shm itself is full: free shared memory (`horus list`, `horus clean`) or enlarge "
                   "/dev/shm."
                 : "Drop messages and array views you no longer need, or raise HORUS_POOL_MAX_BYTES."));
    }
    if (MappedSegment* seg = segment(created))
        if (Block b = allocate_in(seg)) return b;
    throw ShmError("a new pool segment had no free block");
}

// ---- references -------------------------------------------------------------------------

Block Pool::acquire(const BlockRef& ref) {
    if (detached_.load(std::memory_order_relaxed))
        throw ShmError("this process has detached from the horus pool");
    MappedSegment* seg = segment(ref.segment);
    if (!seg)
        throw ShmError("block reference names pool segment " + std::to_string(ref.segment) +
                       ", which does not exist");
    if (ref.index >= seg->block_count)
        throw ShmError("block reference names block " + std::to_string(ref.index) +
                       " of segment " + std::to_string(ref.segment) + ", which has only " +
                       std::to_string(seg->block_count) + " blocks");
    std::lock_guard<std::mutex> g(local_mutex_);
    uint32_t& local = seg->local_counts[ref.index];
    if (local > 0) {
        // Our bit is set, so the block is live and its generation cannot change.
        if (bw::generation(seg->words[ref.index].load(std::memory_order_acquire)) !=
            (ref.generation & bw::kGenMax))
            // Name the stale generation, like the other StaleReference message.
            throw StaleReference("block " + std::to_string(ref.segment) + "/" +
                                 std::to_string(ref.index) + " generation " +
                                 std::to_string(ref.generation) + " was freed and reused");
        ++local;
    } else {
        const uint32_t slot = slot_;
        auto next = update_word(seg->words[ref.index], [&](uint64_t w) {
            return bw::add_holder(w, ref.generation, slot);
        });
        if (!next)
            throw StaleReference("block " + std::to_string(ref.segment) + "/" +
                                 std::to_string(ref.index) + " generation " +
                                 std::to_string(ref.generation) + " was already freed");
        local = 1;
    }
    return Block(seg, ref.index, ref.generation & bw::kGenMax);
}

Block Pool::find(const void* ptr, std::size_t len, std::size_t* offset) {
    auto* p = static_cast<const std::byte*>(ptr);
    const uint32_t limit = mapped_limit_.load(std::memory_order_acquire);
    for (uint32_t s = 0; s < limit; ++s) {
        MappedSegment* seg = mapped_[s].load(std::memory_order_acquire);
        if (!seg) continue;
        const std::byte* begin = seg->payload;
        const std::byte* end = begin + uint64_t{seg->block_count} * seg->block_size;
        if (p < begin || p >= end) continue;
        auto i = static_cast<uint32_t>(static_cast<uint64_t>(p - begin) / seg->block_size);
        std::size_t off = static_cast<std::size_t>(p - begin) - std::size_t{i} * seg->block_size;
        if (off + len > seg->block_size) return {};
        std::lock_guard<std::mutex> g(local_mutex_);
        if (seg->local_counts[i] == 0) return {};
        ++seg->local_counts[i];
        if (offset) *offset = off;
        return Block(seg, i, bw::generation(seg->words[i].load(std::memory_order_acquire)));
    }
    return {};
}

void Pool::retain_local(MappedSegment* seg, uint32_t index) {
    std::lock_guard<std::mutex> g(local_mutex_);
    ++seg->local_counts[index];
}

void Pool::release_local(MappedSegment* seg, uint32_t index, uint32_t generation) noexcept {
    std::lock_guard<std::mutex> g(local_mutex_);
    uint32_t& local = seg->local_counts[index];
    if (local == 0 || --local > 0) return;
    if (detached_.load(std::memory_order_relaxed)) return;  // detach already cleared our bits
    const uint32_t slot = slot_;
    auto next = update_word(seg->words[index], [&](uint64_t w) {
        return bw::remove_holder(w, generation, slot);
    });
    if (next && bw::is_free(*next)) seg->header->hint.store(index, std::memory_order_relaxed);
}

bool Pool::add_ring_ref(const BlockRef& ref) {
    MappedSegment* seg = segment(ref.segment);
    if (!seg || ref.index >= seg->block_count) return false;
    return update_word(seg->words[ref.index], [&](uint64_t w) {
               return bw::add_ring_ref(w, ref.generation);
           }).has_value();
}

void Pool::remove_ring_ref(const BlockRef& ref) {
    MappedSegment* seg = segment(ref.segment);
    if (!seg || ref.index >= seg->block_count) return;
    auto next = update_word(seg->words[ref.index], [&](uint64_t w) {
        return bw::remove_ring_ref(w, ref.generation);
    });
    if (next && bw::is_free(*next)) seg->header->hint.store(ref.index, std::memory_order_relaxed);
}

// ---- statistics ----------------------------------------------------------------------------

PoolStats Pool::stats() {
    PoolStats st;
    st.namespace_name = shm_namespace();
    st.max_bytes = max_bytes_;
    st.reserved_bytes = control_->reserved_bytes.load(std::memory_order_acquire);
    st.reclaimed_processes = control_->reclaimed_processes.load(std::memory_order_relaxed);
    for (auto& p : control_->processes)
        if (p.state.load(std::memory_order_acquire) == layout::kSlotLive) ++st.processes;
    const uint32_t count = segment_count(control_);
    for (uint32_t s = 0; s < count; ++s) {
        MappedSegment* seg = segment(s);
        if (!seg) continue;
        ++st.segments;
        st.blocks_total += seg->block_count;
        st.capacity_bytes += uint64_t{seg->block_count} * seg->block_size;
        for (uint32_t i = 0; i < seg->block_count; ++i)
            if (!bw::is_free(seg->words[i].load(std::memory_order_acquire))) {
                ++st.blocks_in_use;
                st.bytes_in_use += seg->block_size;
            }
    }
    std::lock_guard<std::mutex> g(local_mutex_);
    for (auto& m : mapped_)
        if (MappedSegment* seg = m.load(std::memory_order_acquire))
            for (uint32_t i = 0; i < seg->block_count; ++i)
                if (seg->local_counts[i] > 0) ++st.local_blocks;
    return st;
}

}  // namespace horus

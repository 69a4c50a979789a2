// topic_reclaim.cpp — the topic layer's reclamation participant (topic_participant.hpp).
//
// Runs inside session/reclamation.cpp's sequence, with the namespace lock held (so no
// topic can be created meanwhile). lock_all() lists the namespace's topics and locks
// each in name order; what it cannot open or lock (EMFILE, ENOMEM) makes the census
// incomplete, so no ring count is reconciled against a census that missed slots.
// Objects that are not valid topics (foreign, corrupt, other versions) are never
// trusted and never counted. Locks are always released before the mappings go.
#include <chrono>
#include <algorithm>
#include <memory>
#include <vector>

#include "horus/base/robust_mutex.hpp"
#include "horus/base/shm_object.hpp"
#include "horus/pool/pool.hpp"
#include "horus/session/namespace_name.hpp"
#include "horus/topic/topic_participant.hpp"
#include "topic_internal.hpp"

namespace horus {
namespace tl = topic_layout;
using namespace topic_internal;
namespace {

class TopicParticipant final : public ReclaimParticipant {
  public:
    void lock_all() noexcept override {
        incomplete_ = false;
        try {
            const std::string prefix = shm_file_prefix(shm_namespace()) + "topic.";
            std::vector<std::string> objects = list_objects_with_prefix(prefix);
            std::sort(objects.begin(), objects.end());  // one lock order for every reclaimer
            for (const std::string& object : objects) lock_one("/" + object);
        } catch (...) {
            incomplete_ = true;
        }
    }

    void unlock_all() noexcept override { locked_.clear(); }  // each Locked: unlock, then unmap

    bool clear_dead(std::span<const ProcessRef>) noexcept override {
        for (auto& t : locked_)
            if (!t->header->destroyed.load(std::memory_order_acquire)) t->has_users = reap_dead_users(t->header);
        return true;
    }

    std::size_t tear_down_orphans() noexcept override {
        std::size_t n = 0;
        for (auto& t : locked_) {
            if (t->header->destroyed.load(std::memory_order_acquire)) {
                // Its last user died between marking it and unlinking it (both happen under
                // its mutex, which we hold). Topics are created under the namespace lock,
                // which we hold too, so the name still refers to this object: finish the job.
                ShmObject::unlink(t->shm.name());
                ++n;
                continue;
            }
            if (t->has_users) continue;
            // Its slots' ring references are left out of the census, so reconciliation
            // drops them; the topic itself is gone for everyone from here on.
            t->header->destroyed.store(1, std::memory_order_release);
            ShmObject::unlink(t->shm.name());
            ++n;
        }
        return n;
    }

    void census(ReferenceCensus& census) noexcept override {
        if (incomplete_) census.complete = false;
        for (auto& t : locked_) {
            if (t->header->destroyed.load(std::memory_order_acquire)) continue;
            tl::TopicSlot* slots = slots_of(t->shm.data());
            for (uint32_t i = 0; i < t->capacity; ++i) {
                // Empty, a dead publisher's half-written slot, or released early: no reference.
                if (!slot_holds_ref(slots[i])) continue;
                const std::optional<BlockRef> named = slot_block(slots[i]);
                if (!named) continue;  // (a flagged inline slot is corrupt: it holds nothing)
                const BlockRef r = *named;
                try {
                    auto& entry = census.counts[Pool::census_key(r.segment, r.index)];
                    if (entry.second == 0 || entry.first == r.generation) {
                        entry.first = r.generation;
                        ++entry.second;
                    }
                } catch (...) {
                    census.complete = false;  // out of memory: reconcile nothing
                }
            }
        }
    }

  private:
    struct Locked {
        ShmObject shm;  // declared first: destroyed after the lock below
        RobustLock lock;
        tl::TopicHeader* header;
        uint32_t capacity;
        bool has_users = true;
    };

    void lock_one(const std::string& name) {
        ShmObject seg;
        try {
            seg = ShmObject::open_existing(name, 0, false);
        } catch (const ShmPermission&) {
            return;  // not ours: never trusted
        } catch (const ShmEmpty&) {
            // Topics are created and initialised under the namespace lock, which we hold:
            // an empty one was left by a creator that died. It holds no references.
            ShmObject::unlink(name);
            return;
        } catch (const ShmError&) {
            incomplete_ = true;  // could not map it now: its slots are unknown
            return;
        }
        if (!seg.valid()) return;  // unlinked meanwhile
        auto* h = static_cast<tl::TopicHeader*>(seg.data());
        if (seg.size() >= sizeof(tl::TopicHeader) && h->magic == 0 && h->ready.load(std::memory_order_acquire) == 0) {
            ShmObject::unlink(name);  // sized but never initialised (under the lock we hold): a dead creator's
            return;
        }
        const uint32_t capacity = topic_segment_capacity(seg);
        if (capacity == 0) return;  // foreign or corrupt: never trusted
        if (h->ready.load(std::memory_order_acquire) == 0) return;
        // Timed: a corrupt mutex word, or a holder stopped by a debugger, must not hang
        // the reclaimer (then this topic's references are unknown: nothing is reconciled).
        RobustLock lock(h->mutex, std::chrono::seconds(1));
        if (!lock.owns_lock()) {
            incomplete_ = true;
            return;
        }
        auto entry = std::unique_ptr<Locked>(new Locked{std::move(seg), std::move(lock), h, capacity});
        locked_.push_back(std::move(entry));  // if this throws, `entry` unlocks and unmaps
    }

    std::vector<std::unique_ptr<Locked>> locked_;
    bool incomplete_ = false;
};

}  // namespace

ReclaimParticipant& topic_participant() {
    static auto* participant = new TopicParticipant();  // never destroyed: used at exit
    return *participant;
}

}  // namespace horus

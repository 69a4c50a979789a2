// reclamation.cpp — the one sequence that reclaims what dead processes left behind.
//
// Lock order (every path that holds more than one of these takes them in this order):
//   1. the namespace lock (SessionControl::mutex)
//   2. each participant's locks, participants in registration order
//      (the topic participant takes every topic mutex, topics in name order)
// A publisher holds only its topic's mutex and takes nothing while holding it; pool
// growth holds only the pool mutex and releases it before it reclaims.
//
// The sequence:
//   0. prepare      every participant, outside all locks (maps what it will need)
//   1. reap         under the namespace lock: Live slots whose liveness lock is free
//                   (plus our own slot when leaving) are the dead
//   2. lock all     every participant locks what it guards, through one guard that
//                   always unlocks what it locked, in reverse order
//   3. clear dead   every participant drops the dead processes' traces
//   4. tear down    topics (and the like) that no live process uses
//   5. census       the references that exist, counted where they are held
//   6. reconcile    only with a complete census: counts are made to agree with it
//   7. free slots   dead slots whose traces were all cleared; if we are leaving and
//                   nobody is left, the namespace is marked destroyed and unlinked
//   8. unlock       participants, then the namespace lock (guards, in reverse)
// Every step is idempotent, so a reclaimer killed anywhere leaves state that the next
// one completes (the namespace lock is robust).
#include "horus/session/reclamation.hpp"

#include <vector>

#include "horus/base/liveness_lock.hpp"
#include "horus/session/namespace_name.hpp"
#include "horus/session/session.hpp"

namespace horus {
namespace sl = session_layout;

/// Friend of Session: the sequence reads its private state.
struct SessionAccess {
    static sl::SessionControl* control(Session& s) { return s.control_; }
    static int probe_fd(Session& s) { return s.probe_fd_; }
    static std::vector<ReclaimParticipant*> participants(Session& s) {
        std::lock_guard<std::mutex> g(s.participants_mutex_);
        return s.participants_;
    }
};

namespace {

/// Locks every participant on construction, unlocks them in reverse on destruction.
class ParticipantLocks {
  public:
    explicit ParticipantLocks(const std::vector<ReclaimParticipant*>& ps) : ps_(ps) {
        for (ReclaimParticipant* p : ps_) p->lock_all();
    }
    ~ParticipantLocks() {
        for (auto it = ps_.rbegin(); it != ps_.rend(); ++it) (*it)->unlock_all();
    }
    ParticipantLocks(const ParticipantLocks&) = delete;
    ParticipantLocks& operator=(const ParticipantLocks&) = delete;

  private:
    const std::vector<ReclaimParticipant*>& ps_;
};

}  // namespace

std::size_t run_reclamation(Session& session, ReclaimMode mode, bool force) {
    sl::SessionControl* ctl = SessionAccess::control(session);
    if (!ctl) return 0;
    const std::vector<ReclaimParticipant*> participants = SessionAccess::participants(session);
    for (ReclaimParticipant* p : participants) p->prepare();  // 0

    RobustLock ns(ctl->mutex, "the namespace lock");
    // 1. reap
    const ProcessRef me = session.self();
    std::vector<ProcessRef> dead;
    for (uint32_t s = 0; s < sl::kMaxProcesses; ++s) {
        const sl::ProcessSlot& p = ctl->processes[s];
        if (p.state.load(std::memory_order_acquire) != static_cast<uint32_t>(sl::SlotState::Live)) continue;
        const ProcessRef ref{s, p.incarnation.load(std::memory_order_acquire)};
        if (s == me.slot) {
            if (mode == ReclaimMode::Leaving) dead.push_back(ref);
            continue;
        }
        if (!liveness::is_held(SessionAccess::probe_fd(session), s)) dead.push_back(ref);
    }
    if (dead.empty() && !force) return 0;

    std::size_t reclaimed = 0;
    {
        ParticipantLocks locked(participants);  // 2 (and 8 for the participants)
        bool cleared = true;
        for (ReclaimParticipant* p : participants) cleared = p->clear_dead(dead) && cleared;  // 3
        for (ReclaimParticipant* p : participants) reclaimed += p->tear_down_orphans();       // 4
        ReferenceCensus census;
        for (ReclaimParticipant* p : participants) p->census(census);  // 5
        if (census.complete)
            for (ReclaimParticipant* p : participants) reclaimed += p->reconcile(census);  // 6
        if (cleared) {  // 7
            for (const ProcessRef& d : dead) {
                ctl->processes[d.slot].state.store(static_cast<uint32_t>(sl::SlotState::Free),
                                                   std::memory_order_release);
                if (d.slot != me.slot) {
                    ctl->reclaimed_processes.fetch_add(1, std::memory_order_relaxed);
                    ++reclaimed;
                }
            }
        }
    }
    if (mode == ReclaimMode::Leaving) {
        bool anyone = false;
        for (const auto& p : ctl->processes)
            anyone = anyone || p.state.load(std::memory_order_acquire) == static_cast<uint32_t>(sl::SlotState::Live);
        if (!anyone) {
            try {
                const auto objects = list_namespace_objects(session.name());
                ctl->destroyed.store(1, std::memory_order_release);
                for (const auto& obj : objects) ShmObject::unlink("/" + obj);
            } catch (const ShmError&) {
                // /dev/shm unreadable now (EMFILE): the namespace stays for the next
                // process to attach, or for `horus clean`.
            }
        }
    }
    return reclaimed;
}

}  // namespace horus

// session.hpp — this process's membership of its namespace.
//
// A Session owns the namespace's process table ("/horus.<ns>.session",
// session_layout.hpp): attaching claims a slot, detaching (at exit) frees it, and
// the last process to leave unlinks every object of the namespace. Liveness of
// any process is the OFD lock on its slot's byte (base/liveness_lock.hpp), which
// holds across PID namespaces and hidepid /proc.
//
// fork(): before the fork the parent claims a slot for the child and takes the
// child's liveness lock through a new open file description, which the child
// inherits; participants (the pool) then make the child hold what the parent
// holds, so nothing the child inherited can be freed under it. The parent closes
// its copy of that description after the fork; if the fork failed, the slot's
// lock is gone with it and the slot is reclaimed as dead. A child forked while
// every slot was taken is not attached: every pool operation in it throws
// NotAttached saying so.
//
// Thread safety: attach/detach/reclaim serialise on the namespace lock; the
// participant list is written during attach only.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "horus/base/robust_mutex.hpp"
#include "horus/base/shm_object.hpp"
#include "horus/session/participant.hpp"
#include "horus/session/session_layout.hpp"

namespace horus {

class Session {
  public:
    /// The session of this process's namespace (created, not attached, on first call).
    static Session& instance();

    /// Claims a slot if not attached yet (opening or creating the session object).
    /// False when every slot is taken (reclaim_dead() may free some); throws
    /// ShmError/ShmPermission when the namespace cannot be joined (foreign objects ...).
    /// The pool calls it (pool.hpp): it registers itself before the first reclamation.
    bool claim_slot();
    /// Leaves the namespace (runs at exit): reclaims this process's references
    /// through the participants, frees the slot, unlinks the namespace if nobody is left.
    void detach() noexcept;

    bool attached() const { return slot_.load(std::memory_order_acquire) != session_layout::kNoSlot; }
    /// Throws NotAttached (with the reason) unless attached.
    void require_attached() const;
    ProcessRef self() const { return {slot_.load(std::memory_order_acquire), incarnation_}; }
    uint32_t slot() const { return slot_.load(std::memory_order_acquire); }

    /// True while the process `p` is attached (its slot live, same incarnation, lock held).
    bool is_live(const ProcessRef& p) const noexcept;
    uint32_t live_processes() const noexcept;
    uint64_t reclaimed_processes() const noexcept;

    /// Registers a participant for reclamation and fork (kept for the process lifetime).
    void add_participant(ReclaimParticipant& participant);

    /// Reclaims every process that died and repairs references (see reclamation.cpp);
    /// returns how many processes, objects and references were reclaimed.
    std::size_t reclaim();
    /// The same, but only if some process died (cheap when none did).
    std::size_t reclaim_dead();

    /// The namespace lock (held while topics are created and during reclamation).
    RobustLock lock_namespace();

    const std::string& name() const { return ns_; }

    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

  private:
    friend struct SessionAccess;    // reclamation.cpp
    friend struct SessionTestAccess;
    Session();
    void open_control();
    void prepare_fork() noexcept;
    void after_fork_parent() noexcept;
    void after_fork_child() noexcept;

    std::string ns_;
    ShmObject control_shm_;
    session_layout::SessionControl* control_ = nullptr;
    int liveness_fd_ = -1;  // holds our slot's lock (its own open file description)
    int probe_fd_ = -1;     // asks about other slots' locks
    int child_fd_ = -1;     // during fork: the description holding the child's lock
    uint32_t child_slot_ = session_layout::kNoSlot;
    uint64_t child_incarnation_ = 0;
    std::atomic<uint32_t> slot_{session_layout::kNoSlot};
    uint64_t incarnation_ = 0;
    std::string not_attached_reason_ = "this process has not attached to its horus namespace yet";
    std::vector<ReclaimParticipant*> participants_;  // guarded by participants_mutex_
    mutable std::mutex participants_mutex_;
    std::mutex attach_mutex_;  // claim_slot, detach and fork of this process
};

}  // namespace horus

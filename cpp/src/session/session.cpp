// session.cpp — attach, detach, liveness and fork of a namespace member (see session.hpp).
#include "horus/session/session.hpp"

#include <chrono>
#include <cstdlib>
#include <thread>
#include <sys/stat.h>
#include <unistd.h>

#include "horus/base/control_object.hpp"
#include "horus/base/error.hpp"
#include "horus/base/retry_backoff.hpp"
#include "horus/base/liveness_lock.hpp"
#include "horus/session/composition.hpp"
#include "horus/session/namespace_name.hpp"
#include "horus/session/reclamation.hpp"

namespace horus {
namespace sl = session_layout;
namespace {

Session* g_session = nullptr;

/// True if `name` (in /dev/shm) is the object open on `fd` (same device and inode).
bool names_this_object(const std::string& name, int fd) {
    struct stat a {}, b {};
    return fd >= 0 && fstat(fd, &a) == 0 && stat(("/dev/shm" + name).c_str(), &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}


}  // namespace

Session& Session::instance() {
    static Session* session = [] {
        auto* s = new Session();  // never deleted: handles may outlive static destruction
        g_session = s;
        std::atexit([] { g_session->detach(); });
        pthread_atfork([] { g_session->prepare_fork(); }, [] { g_session->after_fork_parent(); },
                       [] { g_session->after_fork_child(); });
        return s;
    }();
    return *session;
}

Session::Session() : ns_(shm_namespace()) { compose_participants(*this); }

void Session::add_participant(ReclaimParticipant& participant) {
    std::lock_guard<std::mutex> g(participants_mutex_);
    for (ReclaimParticipant* p : participants_)
        if (p == &participant) return;
    participants_.push_back(&participant);
}

void Session::require_attached() const {
    if (!attached()) throw NotAttached(not_attached_reason_ + " (namespace '" + ns_ + "')");
}

void Session::open_control() {
    const std::string name = shm_name("session");
    for (int attempt = 0; attempt < 200; ++attempt) {
        ShmObject shm = open_control_object(name, sizeof(sl::SessionControl), sl::kSessionMagic, sl::kSessionVersion,
                                            "horus session", [](void* p) {
                                                auto* ctl = static_cast<sl::SessionControl*>(p);
                                                ctl->next_incarnation = 1;
                                                init_robust_mutex(ctl->mutex);
                                            });
        auto* ctl = static_cast<sl::SessionControl*>(shm.data());
        const int live_fd = ShmObject::open_description(name);
        if (live_fd < 0) {
            retry_backoff(attempt);
            continue;  // unlinked by a last process leaving: start over
        }
        const int probe_fd = ShmObject::open_description(name);
        if (probe_fd < 0) {
            close(live_fd);
            retry_backoff(attempt);
            continue;
        }
        control_shm_ = std::move(shm);
        control_ = ctl;
        liveness_fd_ = live_fd;
        probe_fd_ = probe_fd;
        return;  // claim_slot() checks `destroyed` under the lock
    }
    throw ShmError("could not open the session object '/dev/shm" + name +
                   "': it kept vanishing for 200 attempts (another program is removing it; check `horus list`)");
}

bool Session::claim_slot() {
    std::lock_guard<std::mutex> g(attach_mutex_);
    if (attached()) return true;
    for (int attempt = 0; attempt < 200; ++attempt) {
        if (!control_) open_control();
        RobustLock lock(control_->mutex, "the namespace lock");
        if (control_->destroyed.load(std::memory_order_acquire)) {
            // Torn down since we opened it: start over with a new session object. The last
            // process unlinks everything while it holds this lock, so seeing the mark while
            // the name still refers to this very object means it died doing so: finish it.
            if (names_this_object(shm_name("session"), liveness_fd_)) {
                try {
                    for (const auto& obj : list_namespace_objects(ns_)) ShmObject::unlink("/" + obj);
                } catch (const ShmError&) {
                }
            }
            lock.unlock();
            close(liveness_fd_);
            close(probe_fd_);
            liveness_fd_ = probe_fd_ = -1;
            control_ = nullptr;
            control_shm_ = ShmObject();
            retry_backoff(attempt);
            continue;
        }
        for (uint32_t s = 0; s < sl::kMaxProcesses; ++s) {
            sl::ProcessSlot& p = control_->processes[s];
            if (p.state.load(std::memory_order_acquire) != static_cast<uint32_t>(sl::SlotState::Free)) continue;
            // A slot is Free before its last owner dropped its lock: skip it then.
            if (!liveness::try_hold(liveness_fd_, s)) continue;
            p.pid = static_cast<int32_t>(getpid());
            const uint64_t inc = control_->next_incarnation++;
            p.incarnation.store(inc, std::memory_order_release);
            p.state.store(static_cast<uint32_t>(sl::SlotState::Live), std::memory_order_release);
            incarnation_ = inc;
            slot_.store(s, std::memory_order_release);
            return true;
        }
        return false;
    }
    throw ShmError("namespace '" + ns_ + "' kept being torn down while this process attached (200 attempts)");
}

void Session::detach() noexcept {
    std::lock_guard<std::mutex> g(attach_mutex_);
    if (!attached()) return;
    try {
        run_reclamation(*this, ReclaimMode::Leaving, false);
    } catch (...) {
        // The lock below is released anyway: our slot is then reclaimed as dead.
    }
    const uint32_t s = slot_.exchange(sl::kNoSlot);
    not_attached_reason_ = "this process has detached from its horus namespace (at exit)";
    if (liveness_fd_ >= 0) {
        liveness::release(liveness_fd_, s);
        close(liveness_fd_);
        liveness_fd_ = -1;
    }
}

bool Session::is_live(const ProcessRef& p) const noexcept {
    if (!control_ || p.slot >= sl::kMaxProcesses || p.incarnation == 0) return false;
    const sl::ProcessSlot& s = control_->processes[p.slot];
    if (s.state.load(std::memory_order_acquire) != static_cast<uint32_t>(sl::SlotState::Live)) return false;
    if (s.incarnation.load(std::memory_order_acquire) != p.incarnation) return false;
    return liveness::is_held(probe_fd_, p.slot);
}

uint32_t Session::live_processes() const noexcept {
    if (!control_) return 0;
    uint32_t n = 0;
    for (uint32_t s = 0; s < sl::kMaxProcesses; ++s)
        if (control_->processes[s].state.load(std::memory_order_acquire) ==
                static_cast<uint32_t>(sl::SlotState::Live) &&
            liveness::is_held(probe_fd_, s))
            ++n;
    return n;
}

uint64_t Session::reclaimed_processes() const noexcept {
    return control_ ? control_->reclaimed_processes.load(std::memory_order_relaxed) : 0;
}

std::size_t Session::reclaim() {
    if (!control_) return 0;
    return run_reclamation(*this, ReclaimMode::DeadOnly, true);
}

std::size_t Session::reclaim_dead() {
    if (!control_) return 0;
    return run_reclamation(*this, ReclaimMode::DeadOnly, false);
}

RobustLock Session::lock_namespace() {
    if (!control_) throw NotAttached(not_attached_reason_);
    return RobustLock(control_->mutex, "the namespace lock");
}

// ---- fork -------------------------------------------------------------------------
// prepare (parent, before fork): claim the child's slot and its lock, then let the
// participants make the child hold what we hold. parent: close our copy of the child's
// description. child: drop the parent's description, adopt the child's.

void Session::prepare_fork() noexcept {
    attach_mutex_.lock();  // released in both processes after the fork
    child_slot_ = sl::kNoSlot;
    child_fd_ = -1;
    if (attached()) {
        for (int round = 0; round < 2 && child_slot_ == sl::kNoSlot; ++round) {
            if (round == 1) {
                // No slot was free: children that ended without detaching (os._exit, as
                // multiprocessing's do) still hold theirs. Reclaim them, then look again.
                try {
                    run_reclamation(*this, ReclaimMode::DeadOnly, false);
                } catch (...) {
                    break;
                }
            }
            int fd = -1;
            try {
                fd = ShmObject::open_description(shm_name("session"));
            } catch (...) {
                break;  // EMFILE, ...: the child has no slot (and is told so when it uses the pool)
            }
            if (fd < 0) break;
            RobustLock lock(control_->mutex, std::nothrow);
            if (lock.owns_lock()) {
                for (uint32_t s = 0; s < sl::kMaxProcesses; ++s) {
                    sl::ProcessSlot& p = control_->processes[s];
                    if (p.state.load(std::memory_order_acquire) != static_cast<uint32_t>(sl::SlotState::Free)) continue;
                    if (!liveness::try_hold(fd, s)) continue;
                    p.pid = static_cast<int32_t>(getpid());  // the child writes its own pid
                    child_incarnation_ = control_->next_incarnation++;
                    p.incarnation.store(child_incarnation_, std::memory_order_release);
                    p.state.store(static_cast<uint32_t>(sl::SlotState::Live), std::memory_order_release);
                    child_slot_ = s;
                    break;
                }
            }
            lock.unlock();
            if (child_slot_ == sl::kNoSlot)
                close(fd);
            else
                child_fd_ = fd;
        }
    }
    participants_mutex_.lock();  // the participant list stays as it is through the fork
    for (ReclaimParticipant* p : participants_) p->prepare_fork(child_slot_);
}

void Session::after_fork_parent() noexcept {
    for (ReclaimParticipant* p : participants_) p->after_fork_parent();
    if (child_fd_ >= 0) close(child_fd_);  // the child keeps the lock through its copy
    child_fd_ = -1;
    child_slot_ = sl::kNoSlot;
    participants_mutex_.unlock();
    attach_mutex_.unlock();
}

void Session::after_fork_child() noexcept {
    if (attached()) {
        // The inherited description is the parent's: holding it open would keep the
        // parent "alive" after it died.
        if (liveness_fd_ >= 0) close(liveness_fd_);
        liveness_fd_ = child_fd_;
        child_fd_ = -1;
        if (child_slot_ != sl::kNoSlot) {
            control_->processes[child_slot_].pid = static_cast<int32_t>(getpid());
            incarnation_ = child_incarnation_;
            slot_.store(child_slot_, std::memory_order_release);
        } else {
            slot_.store(sl::kNoSlot, std::memory_order_release);
            not_attached_reason_ = "this process was forked while all " + std::to_string(sl::kMaxProcesses) +
                                   " process slots of the namespace were taken (or its parent was out of "
                                   "file descriptors), so it has no slot and "
                                   "cannot use shared messages (messages it inherited may be reused by "
                                   "the parent); use fewer processes per namespace";
        }
    }
    for (ReclaimParticipant* p : participants_) p->after_fork_child();
    child_slot_ = sl::kNoSlot;
    participants_mutex_.unlock();
    attach_mutex_.unlock();
}

}  // namespace horus

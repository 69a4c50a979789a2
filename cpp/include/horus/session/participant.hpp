// participant.hpp — how a layer above the session takes part in reclamation and fork.
//
// The session knows processes, not what they hold. Every layer that keeps
// per-process state in shared memory (the pool's holder bits, the topics' user
// and subscriber tables, the ring references of topic slots) implements
// ReclaimParticipant and is registered with the Session: the pool registers
// itself when it attaches; the topic layer is registered by whoever composes the
// library (session/composition.hpp). reclamation.cpp calls them in one fixed
// sequence; the order of locks is written at its top.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <utility>

namespace horus {

/// One process of the namespace: its slot and the incarnation of that slot.
struct ProcessRef {
    uint32_t slot = 0xFFFFFFFFu;
    uint64_t incarnation = 0;
    bool operator==(const ProcessRef&) const = default;
};

/// References that exist according to the participants that hold them, keyed by
/// an opaque block key: key -> (generation, count). `complete` is false when a
/// participant could not see everything it guards; then nothing is reconciled.
struct ReferenceCensus {
    std::unordered_map<uint64_t, std::pair<uint64_t, uint32_t>> counts;
    bool complete = true;
};

class ReclaimParticipant {
  public:
    virtual ~ReclaimParticipant() = default;

    /// Outside every lock, before the namespace lock is taken: expensive set-up
    /// (mapping segments). May throw: the reclamation is then not run.
    virtual void prepare() {}
    /// Under the namespace lock: locks everything this participant guards. Must
    /// not throw; what it could not lock it reports by making census() incomplete.
    virtual void lock_all() noexcept {}
    virtual void unlock_all() noexcept {}
    /// Drops every trace of the `dead` processes. False if something could not be
    /// cleared (the slots are then kept, and retried by the next reclamation).
    virtual bool clear_dead(std::span<const ProcessRef> dead) noexcept = 0;
    /// Tears down what no live process uses any more; returns how many objects.
    virtual std::size_t tear_down_orphans() noexcept { return 0; }
    /// Adds the references this participant holds.
    virtual void census(ReferenceCensus&) noexcept {}
    /// Makes the references it keeps agree with a complete census; returns corrections.
    virtual std::size_t reconcile(const ReferenceCensus&) noexcept { return 0; }

    /// fork(): in the parent before the fork (child_slot is the child's slot, or
    /// kNoSlot when none was free), then in each process after it.
    virtual void prepare_fork(uint32_t /*child_slot*/) noexcept {}
    virtual void after_fork_parent() noexcept {}
    virtual void after_fork_child() noexcept {}
};

}  // namespace horus

// session_layout.hpp — the bytes of a namespace's session object ("/horus.<ns>.session").
//
// SessionControl holds the process table of the namespace: one ProcessSlot per
// attached process (at most kMaxProcesses). A slot's index is the process's
// holder bit in every pool block word (pool/block_word.hpp), so the limit is
// shared with the pool.
//
// Who writes what:
//  * `mutex` (robust, process-shared) is the namespace lock. Under it: a process
//    claims a Free slot (after taking its liveness lock, base/liveness_lock.hpp)
//    and marks it Live with a new incarnation; a detaching process or a reclaimer
//    marks a slot Free; topics are created; reclamation runs (reclamation.cpp).
//  * `incarnation` is unique per claim of a slot (next_incarnation, under the
//    mutex, never 0): (slot, incarnation) names one process for the namespace's
//    lifetime. Readers outside the mutex load state and incarnation (acquire).
//  * `pid` is informational only (in the attacher's own PID namespace); liveness
//    is the slot's OFD lock, never the pid.
//  * `destroyed` is set under the mutex by the last process to leave; attachers
//    that see it start over with a new object.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <pthread.h>

namespace horus::session_layout {

inline constexpr uint64_t kSessionMagic = 0x4e4f495353455348ull;  // "HSESSION"
inline constexpr uint32_t kSessionVersion = 1;
inline constexpr uint32_t kMaxProcesses = 40;
inline constexpr uint32_t kNoSlot = 0xFFFFFFFFu;

enum class SlotState : uint32_t { Free = 0, Live = 1 };

struct ProcessSlot {
    std::atomic<uint32_t> state;  // SlotState
    int32_t pid;
    std::atomic<uint64_t> incarnation;
};

struct SessionControl {
    uint64_t magic;
    uint32_t version;
    uint32_t control_size;           // sizeof(SessionControl), checked on open
    std::atomic<uint32_t> ready;     // 1 once the creator initialised everything below
    std::atomic<uint32_t> destroyed; // 1 once teardown began
    pthread_mutex_t mutex;
    uint64_t next_incarnation;                  // under the mutex
    std::atomic<uint64_t> reclaimed_processes;  // dead processes reclaimed so far
    ProcessSlot processes[kMaxProcesses];
};

static_assert(std::atomic<uint64_t>::is_always_lock_free);
// Begins like base/control_object.hpp's ControlPrefix (magic, version, control_size, ready).
static_assert(offsetof(SessionControl, ready) == 16 && offsetof(SessionControl, control_size) == 12);

}  // namespace horus::session_layout

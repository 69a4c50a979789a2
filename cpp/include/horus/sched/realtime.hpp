// realtime.hpp — the operating-system side of a node's real-time options: SCHED_FIFO
// priority and CPU pinning of the calling thread, locking the process's memory, and
// the timer slack that decides how late a sleep may wake.
//
// Each call that can be refused returns "" on success, or why it was refused and what
// grants it (SCHED_FIFO needs CAP_SYS_NICE, root, or an RLIMIT_RTPRIO of at least the
// priority). The scheduler turns a refusal into one warning, or an error with rt=True.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace horus {

inline constexpr int kMinFifoPriority = 1;
inline constexpr int kMaxFifoPriority = 99;
inline constexpr int kMaxCore = 1023;  // CPU_SETSIZE - 1

/// The calling thread runs under SCHED_FIFO at `priority` (1-99, higher is more urgent).
std::string set_fifo_priority(int priority);
/// The calling thread runs only on CPU `core`.
std::string pin_to_core(int core);
/// mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT): pages stay in RAM once touched.
std::string lock_memory();
/// Whether some of this process's memory is locked already (VmLck > 0): a run with rt then
/// leaves the program's own lock alone, neither locking nor unlocking.
bool memory_locked() noexcept;
/// munlockall(): undoes lock_memory() when the run that locked it ends.
void unlock_memory() noexcept;
/// The calling thread's timer slack (how late a sleep may end), in ns (>= 1).
void set_timer_slack_ns(unsigned long ns) noexcept;
/// How long before a due time a run with rt polls the clock instead of sleeping (a
/// sleep on a VM wakes tens of microseconds late; a poll does not): HORUS_RT_SPIN_US,
/// default 100 us, 0 turns it off, at most 10000.
int64_t rt_spin_ns();
/// The CPUs this process may run on.
std::vector<int> allowed_cores();

}  // namespace horus

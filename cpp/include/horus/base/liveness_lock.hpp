// liveness_lock.hpp — process liveness that the kernel guarantees, across PID namespaces.
//
// A process that takes part in a namespace holds an open-file-description (OFD)
// write lock on one byte of a shared-memory object (byte kLivenessBase + slot)
// for as long as it lives. The kernel drops the lock when the last descriptor of
// that open file description is closed — at exit, at kill -9, at exec (the
// descriptor is close-on-exec) — whatever PID namespace or /proc mount (hidepid)
// the process has. Anyone can ask whether the byte is held (F_OFD_GETLK).
//
// Why not pid + start time from /proc: pids mean nothing across PID namespaces
// (two containers sharing /dev/shm with --ipc=host) and /proc may hide other
// users' processes; both made live peers look dead, and their blocks were reclaimed.
// Why not robust futexes alone: they tell a waiter that a holder died, but give no
// way to ask "is slot 7 still alive?" without blocking on it.
//
// OFD locks are shared by every descriptor of one open file description, so a
// forked child inherits its parent's lock: it must close the inherited
// descriptor (the parent's lock stays, the parent still holds its own) and hold
// a byte of its own through a new description (session.cpp does both).
#pragma once

#include <cstdint>

namespace horus::liveness {

inline constexpr int64_t kLivenessBase = 1 << 20;  // past the object's data; locks need no backing bytes

/// Takes the lock of `slot` on open file description `fd` without waiting.
/// True if taken (or already held through `fd`); false if another description holds it.
bool try_hold(int fd, uint32_t slot) noexcept;

/// Releases the lock of `slot` held through `fd`.
void release(int fd, uint32_t slot) noexcept;

/// True if a description other than `probe_fd`'s holds the lock of `slot`.
/// On an unexpected error it answers true: a live process is never taken for dead.
bool is_held(int probe_fd, uint32_t slot) noexcept;

}  // namespace horus::liveness

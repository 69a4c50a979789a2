// process_identity.hpp — a process identity that survives pid reuse.
//
// A pid alone is recycled by the kernel; (pid, start time in clock ticks since
// boot, from /proc/<pid>/stat field 22) names one process for the lifetime of
// the machine. Liveness = that pid exists and still has that start time.
#pragma once

#include <cstdint>
#include <sys/types.h>

namespace horus {

struct ProcessIdentity {
    int32_t pid = 0;
    uint64_t start_time = 0;

    bool operator==(const ProcessIdentity&) const = default;
};

/// Identity of the calling process.
ProcessIdentity current_process();

/// Start time of `pid`, or 0 if no such process (or it is a zombie).
uint64_t process_start_time(pid_t pid);

/// True if the process named by `id` is still running (not reused, not a zombie).
bool is_alive(const ProcessIdentity& id);

}  // namespace horus

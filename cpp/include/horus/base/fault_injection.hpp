// fault_injection.hpp — a test hook that makes shared-memory calls fail on purpose.
//
// Tests arm it to prove that every critical section survives an error thrown
// from inside it (EMFILE, ENOMEM, EACCES ...): locks are released, nothing is
// unmapped while locked, other processes go on. Disarmed (the default) it costs
// one relaxed atomic load per shm_open/mmap, which are never on a hot path.
#pragma once

namespace horus::fault {

/// The next `count` shm_open/mmap calls of this process, after `skip` successful
/// ones, fail with `error` (an errno value). count 0 disarms.
void inject_shm_failure(int error, int skip = 0, int count = 1);

/// Called by the shm wrappers: 0, or the errno the call must fail with.
int take_shm_failure() noexcept;

}  // namespace horus::fault

// liveness_lock.cpp — OFD byte locks as liveness (see liveness_lock.hpp).
#include "horus/base/liveness_lock.hpp"

#include <cerrno>
#include <fcntl.h>

namespace horus::liveness {
namespace {

struct flock byte_of(uint32_t slot, short type) {
    struct flock fl {};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = kLivenessBase + static_cast<int64_t>(slot);
    fl.l_len = 1;
    fl.l_pid = 0;  // required 0 for OFD locks
    return fl;
}

}  // namespace

bool try_hold(int fd, uint32_t slot) noexcept {
    struct flock fl = byte_of(slot, F_WRLCK);
    for (;;) {
        if (fcntl(fd, F_OFD_SETLK, &fl) == 0) return true;
        if (errno != EINTR) return false;
    }
}

void release(int fd, uint32_t slot) noexcept {
    struct flock fl = byte_of(slot, F_UNLCK);
    while (fcntl(fd, F_OFD_SETLK, &fl) != 0 && errno == EINTR) {
    }
}

bool is_held(int probe_fd, uint32_t slot) noexcept {
    struct flock fl = byte_of(slot, F_WRLCK);
    for (;;) {
        if (fcntl(probe_fd, F_OFD_GETLK, &fl) == 0) return fl.l_type != F_UNLCK;
        if (errno != EINTR) return true;
    }
}

}  // namespace horus::liveness

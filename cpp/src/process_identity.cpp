// process_identity.cpp — pid + start time from /proc (see process_identity.hpp).
#include "horus/process_identity.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace horus {

uint64_t process_start_time(pid_t pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char buf[1024];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = '\0';
    // Field 2 (comm) may contain spaces and parentheses: continue after the last ')'.
    char* p = std::strrchr(buf, ')');
    if (!p) return 0;
    p += 2;  // now at field 3 (state)
    if (*p == 'Z' || *p == 'X') return 0;  // zombie or dead: its resources are gone
    for (int field = 3; field < 22 && p; ++field) {
        p = std::strchr(p, ' ');
        if (p) ++p;
    }
    if (!p) return 0;
    return std::strtoull(p, nullptr, 10);
}

ProcessIdentity current_process() {
    ProcessIdentity id;
    id.pid = static_cast<int32_t>(getpid());
    id.start_time = process_start_time(id.pid);
    return id;
}

bool is_alive(const ProcessIdentity& id) {
    if (id.pid <= 0) return false;
    uint64_t t = process_start_time(id.pid);
    return t != 0 && t == id.start_time;
}

}  // namespace horus

// realtime.cpp — SCHED_FIFO, CPU pinning, mlockall and timer slack (realtime.hpp).
#include "horus/sched/realtime.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "horus/base/error.hpp"

namespace horus {

std::string set_fifo_priority(int priority) {
    if (priority < kMinFifoPriority || priority > kMaxFifoPriority)
        throw InvalidArgument("priority = " + std::to_string(priority) + " is out of range; expected 1 <= priority <= 99");
    sched_param p{};
    p.sched_priority = priority;
    const int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &p);
    if (rc == 0) return "";
    std::string why = "SCHED_FIFO priority " + std::to_string(priority) + " refused (" + std::strerror(rc) + ")";
    if (rc == EPERM) {
        rlimit lim{};
        getrlimit(RLIMIT_RTPRIO, &lim);
        why += ": it needs root, CAP_SYS_NICE, or an RLIMIT_RTPRIO of at least " + std::to_string(priority) +
               " (now " + (lim.rlim_cur == RLIM_INFINITY ? std::string("unlimited") : std::to_string(lim.rlim_cur)) +
               "; raise it with 'ulimit -r' or rtprio in /etc/security/limits.conf)";
    }
    return why;
}

std::string pin_to_core(int core) {
    if (core < 0 || core > kMaxCore)
        throw InvalidArgument("core = " + std::to_string(core) + " is out of range; expected 0 <= core <= 1023");
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(static_cast<unsigned>(core), &set);
    const int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    if (rc == 0) return "";
    std::string allowed;
    for (int c : allowed_cores()) allowed += (allowed.empty() ? "" : ",") + std::to_string(c);
    return "pinning to CPU " + std::to_string(core) + " refused (" + std::strerror(rc) +
           "); this process may run on CPUs " + allowed;
}

std::string lock_memory() {
    if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) == 0) return "";
    const int err = errno;
    return std::string("mlockall refused (") + std::strerror(err) +
           "): it needs root, CAP_IPC_LOCK or a large enough RLIMIT_MEMLOCK ('ulimit -l')";
}

void unlock_memory() noexcept { munlockall(); }

bool memory_locked() noexcept {
    FILE* f = std::fopen("/proc/self/status", "r");
    if (!f) return false;
    char line[256];
    long kb = 0;
    while (std::fgets(line, sizeof line, f))
        if (std::sscanf(line, "VmLck: %ld kB", &kb) == 1) break;
    std::fclose(f);
    return kb > 0;
}

void set_timer_slack_ns(unsigned long ns) noexcept { prctl(PR_SET_TIMERSLACK, ns ? ns : 1UL, 0, 0, 0); }

int64_t rt_spin_ns() {
    static const int64_t spin = [] {
        const char* env = std::getenv("HORUS_RT_SPIN_US");
        if (!env || !*env) return int64_t{100'000};
        char* end = nullptr;
        const long v = std::strtol(env, &end, 10);
        return (end && *end == '\0' && v >= 0 && v <= 10'000) ? int64_t{v} * 1000 : int64_t{100'000};
    }();
    return spin;
}

std::vector<int> allowed_cores() {
    std::vector<int> cores;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return cores;
    for (int c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &set)) cores.push_back(c);
    return cores;
}

}  // namespace horus

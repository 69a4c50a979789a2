// robust_mutex.cpp — process-shared robust mutexes (see robust_mutex.hpp).
#include "horus/base/robust_mutex.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <new>

#include "horus/base/blocking_wait.hpp"
#include "horus/base/error.hpp"

namespace horus {

void init_robust_mutex(pthread_mutex_t& mutex) {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&mutex, &attr);
    pthread_mutexattr_destroy(&attr);
}

int lock_robust_mutex(pthread_mutex_t& mutex) noexcept {
    int r = pthread_mutex_trylock(&mutex);
    if (r == EBUSY) {
        BlockingWait wait;  // e.g. without the GIL (blocking_wait.hpp)
        r = pthread_mutex_lock(&mutex);
    }
    if (r != EOWNERDEAD) return r;
    pthread_mutex_consistent(&mutex);
    return 0;
}

int lock_robust_mutex_for(pthread_mutex_t& mutex, std::chrono::nanoseconds timeout) noexcept {
    int r = pthread_mutex_trylock(&mutex);
    if (r == EBUSY) {
        timespec deadline{};
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        const long long ns = deadline.tv_nsec + timeout.count();
        deadline.tv_sec += static_cast<time_t>(ns / 1'000'000'000);
        deadline.tv_nsec = static_cast<long>(ns % 1'000'000'000);
        BlockingWait wait;
        r = pthread_mutex_clocklock(&mutex, CLOCK_MONOTONIC, &deadline);
    }
    if (r != EOWNERDEAD) return r;
    pthread_mutex_consistent(&mutex);
    return 0;
}

RobustLock::RobustLock(pthread_mutex_t& mutex, std::chrono::nanoseconds timeout) noexcept
    : mutex_(lock_robust_mutex_for(mutex, timeout) == 0 ? &mutex : nullptr) {}

RobustLock::RobustLock(pthread_mutex_t& mutex, const char* what) : mutex_(&mutex) {
    if (int r = lock_robust_mutex(mutex); r != 0) {
        mutex_ = nullptr;
        throw ShmError(std::string("locking ") + what + " failed: " + std::strerror(r));
    }
}

RobustLock::RobustLock(pthread_mutex_t& mutex, std::nothrow_t) noexcept
    : mutex_(lock_robust_mutex(mutex) == 0 ? &mutex : nullptr) {}

void RobustLock::unlock() noexcept {
    if (mutex_) pthread_mutex_unlock(mutex_);
    mutex_ = nullptr;
}

}  // namespace horus

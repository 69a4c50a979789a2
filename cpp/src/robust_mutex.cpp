// robust_mutex.cpp — process-shared robust mutexes (see robust_mutex.hpp).
#include "horus/robust_mutex.hpp"

#include <cerrno>

namespace horus {

void init_robust_mutex(pthread_mutex_t& mutex) {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&mutex, &attr);
    pthread_mutexattr_destroy(&attr);
}

int lock_robust_mutex(pthread_mutex_t& mutex) {
    const int r = pthread_mutex_lock(&mutex);
    if (r != EOWNERDEAD) return r;
    pthread_mutex_consistent(&mutex);
    return 0;
}

}  // namespace horus

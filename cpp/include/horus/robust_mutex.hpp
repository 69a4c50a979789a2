// robust_mutex.hpp — the process-shared, robust pthread mutexes that live in shared
// memory (the pool's control block, every topic header).
//
// init_robust_mutex: called once by the creator of the object, before it marks the
// object ready. lock_robust_mutex: a holder that died while holding the mutex
// (EOWNERDEAD) counts as having released it; the mutex is marked consistent and the
// caller owns it. Everything done under these mutexes is written to survive that
// (see pool_layout.hpp and topic_layout.hpp).
#pragma once

#include <pthread.h>

namespace horus {

void init_robust_mutex(pthread_mutex_t& mutex);

/// 0 when the caller now holds `mutex` (also after a dead holder), else the error number.
int lock_robust_mutex(pthread_mutex_t& mutex);

}  // namespace horus

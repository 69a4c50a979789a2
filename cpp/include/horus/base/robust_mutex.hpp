// robust_mutex.hpp — the process-shared, robust pthread mutexes that live in shared
// memory (the session control block, the pool control block, every topic header),
// and the one RAII guard every holder uses.
//
// init_robust_mutex: called once by the creator of the object, before it marks the
// object ready. A holder that died while holding the mutex (EOWNERDEAD) counts as
// having released it; the mutex is marked consistent and the caller owns it.
// Everything done under these mutexes is written to survive that.
//
// RobustLock is the only way code locks them: its destructor unlocks, so an
// exception thrown inside a critical section can never leave the mutex held by a
// live process (which would block every other process of the namespace forever).
// Whoever owns the mapping must destroy the guard before unmapping.
#pragma once

#include <pthread.h>

#include <chrono>
#include <string>

namespace horus {

void init_robust_mutex(pthread_mutex_t& mutex);

/// 0 when the caller now holds `mutex` (also after a dead holder), else the error number.
int lock_robust_mutex(pthread_mutex_t& mutex) noexcept;
/// The same, but gives up after `timeout` (ETIMEDOUT): for readers that must never hang
/// on a holder that stopped (a debugger, SIGSTOP) or on a corrupt mutex word.
int lock_robust_mutex_for(pthread_mutex_t& mutex, std::chrono::nanoseconds timeout) noexcept;

class RobustLock {
  public:
    /// Locks `mutex`; throws ShmError naming `what` if it cannot be locked.
    RobustLock(pthread_mutex_t& mutex, const char* what);
    /// Locks `mutex` if possible; owns_lock() says whether it did (never throws).
    RobustLock(pthread_mutex_t& mutex, std::nothrow_t) noexcept;
    /// Locks `mutex` within `timeout` if possible; owns_lock() says whether it did.
    RobustLock(pthread_mutex_t& mutex, std::chrono::nanoseconds timeout) noexcept;
    ~RobustLock() { unlock(); }
    RobustLock(RobustLock&& other) noexcept : mutex_(other.mutex_) { other.mutex_ = nullptr; }
    RobustLock(const RobustLock&) = delete;
    RobustLock& operator=(const RobustLock&) = delete;
    RobustLock& operator=(RobustLock&&) = delete;

    bool owns_lock() const { return mutex_ != nullptr; }
    void unlock() noexcept;

  private:
    pthread_mutex_t* mutex_;
};

}  // namespace horus

// futex.hpp — wait/wake on a 32-bit word in shared memory (Linux futex, process-shared).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace horus {

/// Blocks while `word` == `expected`, at most `timeout` (spurious wake-ups possible).
void futex_wait(std::atomic<uint32_t>& word, uint32_t expected, std::chrono::nanoseconds timeout);

/// Wakes every waiter of `word`, in any process.
void futex_wake_all(std::atomic<uint32_t>& word);

}  // namespace horus

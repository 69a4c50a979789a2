// retry_backoff.hpp — how long a retry loop over a shared object sleeps before attempt n.
//
// A peer that is creating or tearing down an object finishes in microseconds; one that
// died leaves it to be detected and replaced. 0.1 ms doubling up to ~26 ms keeps both short.
#pragma once

#include <algorithm>
#include <chrono>
#include <thread>

namespace horus {

inline void retry_backoff(int attempt) {
    std::this_thread::sleep_for(std::chrono::microseconds(100) * (1 << std::min(attempt, 8)));
}

}  // namespace horus

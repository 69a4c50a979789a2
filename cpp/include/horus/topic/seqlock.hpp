// seqlock.hpp — the sequence-lock encoding of a topic ring slot (topic_layout.hpp).
//
// Message number s lives in slot s % capacity. The slot's seq word says what it
// holds: 0 = never written, 2s+1 = message s is being written, 2s+2 = message s
// is complete. Publishers store writing(s) before the descriptor and complete(s)
// (release) after it; readers compare seq before and after copying.
#pragma once

#include <cstdint>

namespace horus::seqlock {

constexpr uint64_t writing(uint64_t s) { return 2 * s + 1; }
constexpr uint64_t complete(uint64_t s) { return 2 * s + 2; }
constexpr bool is_complete(uint64_t seq) { return seq != 0 && seq % 2 == 0; }

}  // namespace horus::seqlock

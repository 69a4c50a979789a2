// reclamation.hpp — the one sequence that reclaims what dead processes left.
#pragma once

#include <cstddef>

namespace horus {

class Session;

enum class ReclaimMode {
    DeadOnly,   // processes that died
    Leaving,    // the caller leaves too: its own slot is reclaimed with the dead
};

/// Runs the sequence of reclamation.cpp. With DeadOnly and nobody dead it does
/// nothing unless `force` (horus.reclaim() forces: it also repairs ring counts).
/// Returns processes + objects + references reclaimed.
std::size_t run_reclamation(Session& session, ReclaimMode mode, bool force);

}  // namespace horus

// topic_participant.hpp — the topic layer's part of reclamation (session/participant.hpp).
//
// With the namespace lock held it locks every topic of the namespace (name order),
// frees the user and subscriber entries of dead processes, tears down topics whose
// users all died, and counts the ring references the slots hold (the census the
// pool reconciles against). Registered by the composed library (cpp/src/compose.cpp).
#pragma once

#include "horus/session/participant.hpp"

namespace horus {

ReclaimParticipant& topic_participant();

}  // namespace horus

// compose.cpp — the composition of the horus library: the reclamation participants
// of the layers above the pool (topics, the node registry) (session/composition.hpp). The pool registers itself.
#include "horus/session/composition.hpp"
#include "horus/session/session.hpp"
#include "horus/sched/node_registry.hpp"
#include "horus/topic/topic_participant.hpp"

namespace horus {

void compose_participants(Session& session) {
    session.add_participant(topic_participant());
    session.add_participant(node_registry_participant());
}

}  // namespace horus

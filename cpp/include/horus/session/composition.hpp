// composition.hpp — the one hook by which the composed library registers the
// reclamation participants of layers above the pool (the topic layer and the scheduler's node registry).
//
// It is declared here and defined by whoever composes the library: the `horus`
// target defines it in cpp/src/compose.cpp. Because Session's constructor calls
// it, a program that links the session links the composition, so no participant
// is ever silently missing (a static initializer in a static library would be
// dropped by the linker when nothing else refers to its file).
#pragma once

namespace horus {

class Session;

/// Registers every participant that is not registered by its own layer.
void compose_participants(Session& session);

}  // namespace horus

// session_test_access.hpp — test access to the session's control block (Session
// declares `friend struct SessionTestAccess`), to forge dead or hostile slots.
#pragma once

#include "horus/session/session.hpp"

namespace horus {
struct SessionTestAccess {
    static session_layout::SessionControl* control(Session& s) { return s.control_; }
};
}  // namespace horus

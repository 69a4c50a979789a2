// py_views.hpp — the writable NumPy views this process exported of private messages.
//
// Read-only is a property of the block (msg/message.hpp): once a block is sent (or
// held across fork()), every message over it refuses mutation. NumPy views exported
// before that were created writable; they are recorded here (weak references, per
// block) and made read-only when the block is sealed, so a write through them raises
// NumPy's ValueError instead of changing what every receiver sees.
// Not covered (documented): arrays NumPy derives from such a view before the send
// (slices, np.asarray(msg), np.from_dlpack(msg)) keep the writability they had.
// All functions need the GIL.
#pragma once

#include <nanobind/nanobind.h>

#include "horus/pool/block.hpp"

namespace horus::py {

/// Records `array` (a writable numpy.ndarray over `block`).
void track_writable_view(const Block& block, nanobind::handle array);

/// Makes every recorded view of `block` read-only and forgets them.
void seal_views(const Block& block);

/// The same for every block (called before fork()).
void seal_all_views();

}  // namespace horus::py

// py_payload.hpp — horus._core._Payload: a read-only buffer over one received bytes
// message (a typed message in a pool block, or schemaless data), holding the block.
//
// NumPy arrays made from it (np.frombuffer) and records viewing it keep it, and so
// the block, alive; nothing can write through it (the buffer is read-only).
#pragma once

#include <nanobind/nanobind.h>

#include "horus/msg/bytes_message.hpp"

namespace horus::py {

void bind_payload(nanobind::module_& m);

/// A _Payload owning `msg`.
nanobind::object make_payload(BytesMessage&& msg);

/// The bytes of a _Payload object (its message's payload).
const BytesMessage& payload_message(nanobind::handle payload);

}  // namespace horus::py

// control_object.hpp — creating or opening a fixed-size control object of a namespace
// (the session's process table, the pool's segment table).
//
// Such an object begins with ControlPrefix. Its creator fills it and stores `ready`
// last (release); openers wait for `ready` (acquire), then trust nothing else before
// they have checked magic, version and size. A creator that died before it finished
// leaves an empty or never-ready object: openers replace it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "horus/base/shm_object.hpp"

namespace horus {

struct ControlPrefix {
    uint64_t magic;
    uint32_t version;
    uint32_t control_size;        // sizeof the whole control object
    std::atomic<uint32_t> ready;  // 1 once the creator initialised everything
};

/// The control object `name` of `size` bytes: created (zero-filled, then `initialise`d,
/// then marked ready) or opened and checked. `what` names it in errors ("horus session").
/// Throws ShmError (ShmPermission for a foreign object) for one of another size, magic
/// or version, or when it kept vanishing for 200 attempts.
ShmObject open_control_object(const std::string& name, std::size_t size, uint64_t magic, uint32_t version,
                              const char* what, const std::function<void(void*)>& initialise);

}  // namespace horus

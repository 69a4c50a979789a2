// namespace_cleaner.hpp — finding and removing shared memory left behind by dead processes.
//
// A namespace normally disappears when its last process exits. A crash of the
// last process leaves its objects in /dev/shm until someone attaches again (and
// reclaims) or an operator runs `horus clean`, which uses these functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace horus {

struct NamespaceInfo {
    std::string name;
    std::vector<std::string> objects;  // names in /dev/shm
    uint64_t bytes = 0;                // memory they really use (allocated tmpfs blocks)
    uint32_t live_processes = 0;       // attached processes that are still running
};

/// Every namespace with objects in /dev/shm, with its live-process count.
std::vector<NamespaceInfo> list_namespaces();

/// Removes namespace `ns` if no live process is attached (or if `force`).
/// Returns the objects removed (empty if it is in use and not forced).
std::vector<std::string> clean_namespace(const std::string& ns, bool force);

}  // namespace horus

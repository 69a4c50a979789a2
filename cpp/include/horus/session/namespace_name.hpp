// namespace_name.hpp — where this process's shared-memory names live.
//
// Every shared-memory object of horus is named "/horus.<ns>.<what>", where <ns>
// is HORUS_NAMESPACE if set, else "u<uid>". Separate namespaces never see each
// other, which is how parallel test runs and different users stay apart (the
// default name is predictable: base/shm_object.hpp's ownership check is what
// keeps another user from pre-creating it).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace horus {

/// The namespace of this process (read once from the environment, validated:
/// 1-48 characters of [A-Za-z0-9_-]; a bad value throws InvalidArgument).
const std::string& shm_namespace();

/// Full object name for `what` in this process's namespace: "/horus.<ns>.<what>".
std::string shm_name(std::string_view what);

/// Prefix of every name in namespace `ns` as it appears in /dev/shm: "horus.<ns>.".
std::string shm_file_prefix(std::string_view ns);

/// Names (without the leading '/') of every object of namespace `ns` in /dev/shm.
std::vector<std::string> list_namespace_objects(std::string_view ns);

/// Throws InvalidArgument unless `ns` is a valid namespace name.
void validate_namespace(std::string_view ns);

}  // namespace horus

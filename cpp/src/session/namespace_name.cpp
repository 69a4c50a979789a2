// namespace_name.cpp — namespace resolution and listing (see namespace_name.hpp).
#include "horus/session/namespace_name.hpp"

#include <cstdlib>
#include <unistd.h>

#include "horus/base/error.hpp"
#include "horus/base/shm_object.hpp"

namespace horus {

void validate_namespace(std::string_view ns) {
    bool ok = !ns.empty() && ns.size() <= 48;
    for (char c : ns)
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-');
    if (!ok)
        throw InvalidArgument("HORUS_NAMESPACE='" + std::string(ns) +
                              "' is invalid: use 1-48 characters from A-Z a-z 0-9 _ -");
}

const std::string& shm_namespace() {
    static const std::string ns = [] {
        const char* env = std::getenv("HORUS_NAMESPACE");
        std::string value = (env && *env) ? std::string(env) : std::string("u").append(std::to_string(geteuid()));
        validate_namespace(value);
        return value;
    }();
    return ns;
}

std::string shm_file_prefix(std::string_view ns) { return "horus." + std::string(ns) + "."; }

std::string shm_name(std::string_view what) {
    // append, not "/" + std::string: GCC 12 -O3 warns falsely (-Wrestrict) on the latter
    return std::string("/").append(shm_file_prefix(shm_namespace())).append(what);
}

std::vector<std::string> list_namespace_objects(std::string_view ns) {
    return list_objects_with_prefix(shm_file_prefix(ns));
}

}  // namespace horus

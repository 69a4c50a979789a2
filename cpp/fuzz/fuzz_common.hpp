// fuzz_common.hpp — shared helpers of the horus libFuzzer targets.
//
// Every target runs in a private namespace (HORUS_NAMESPACE=fuzz_<target>_<pid>)
// set in LLVMFuzzerInitialize, before anything touches the pool, and unlinks it
// at exit. A target passes when every input ends in success or a horus::Error;
// anything else (a crash, a sanitizer report, a hang caught by -timeout, a
// foreign exception) is a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

#include "horus/session/namespace_name.hpp"
#include "horus/base/shm_object.hpp"

namespace horus_fuzz {

/// Reads fixed-size values off the front of the input (zeros once it runs out).
class Input {
  public:
    Input(const uint8_t* data, std::size_t size) : p_(data), n_(size) {}
    template <typename T>
    T take() {
        T v{};
        std::size_t k = n_ < sizeof(T) ? n_ : sizeof(T);
        std::memcpy(&v, p_, k);
        p_ += k;
        n_ -= k;
        return v;
    }
    /// Copies up to `len` bytes into `out` (fewer if the input runs out); returns the count.
    std::size_t take_bytes(void* out, std::size_t len) {
        std::size_t k = n_ < len ? n_ : len;
        std::memcpy(out, p_, k);
        p_ += k;
        n_ -= k;
        return k;
    }
    std::size_t left() const { return n_; }

  private:
    const uint8_t* p_;
    std::size_t n_;
};

inline void set_private_namespace(const char* target, const char* max_bytes = "64M") {
    std::string ns = std::string("fuzz_") + target + "_" + std::to_string(getpid());
    setenv("HORUS_NAMESPACE", ns.c_str(), 1);
    setenv("HORUS_POOL_MAX_BYTES", max_bytes, 0);
    // Resolve the namespace now: its static string must outlive the atexit
    // handlers registered after this (exit handlers run in reverse order).
    (void)horus::shm_namespace();
}

inline void unlink_namespace() {
    for (const auto& obj : horus::list_namespace_objects(horus::shm_namespace()))
        horus::ShmObject::unlink("/" + obj);
}

}  // namespace horus_fuzz

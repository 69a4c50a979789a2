// test_util.hpp — helpers shared by the horus GoogleTest files: running code in
// a forked child, spawning this test binary as a fresh helper process, and
// pipes to pass data between them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace horus_test {

/// Forks; the child runs `body`, detaches from the pool and _exits with body's
/// return value (an escaped exception exits 99). Returns the child's pid.
int fork_child(const std::function<int()>& body);

/// Waits for `pid`; returns its exit code, or -signal if a signal killed it.
int wait_child(int pid);

/// Runs `body` in a forked child and waits for it (see fork_child / wait_child).
int run_in_child(const std::function<int()>& body);

struct HelperResult {
    int status = 0;       // exit code, or -signal
    std::string output;   // its stdout
};

/// Runs this test binary as a brand-new process (posix_spawn, so no fork
/// handlers run and the helper attaches to the pool on its own) in helper mode
/// `mode` with `args`; it inherits the environment (so HORUS_NAMESPACE) with
/// `env` ("NAME=value" entries) put on top. Waits for it.
HelperResult run_helper(const std::string& mode, const std::vector<std::string>& args = {},
                        const std::vector<std::string>& env = {});

/// Helper-mode entry point, called by test_main for "--horus-helper MODE ARGS...".
int helper_main(int argc, char** argv);

/// Writes/reads exactly n bytes on a file descriptor (true on success).
bool write_all(int fd, const void* p, std::size_t n);
bool read_all(int fd, void* p, std::size_t n);

}  // namespace horus_test

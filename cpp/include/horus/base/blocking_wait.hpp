// blocking_wait.hpp — what a thread does around a wait that may block for long.
//
// A language binding whose threads share an interpreter lock (Python's GIL) installs
// hooks here; the core wraps every blocking wait on a process-shared lock in a
// BlockingWait, so a thread never waits on another process's lock while holding the
// interpreter lock (a reclaimer holding every topic mutex would otherwise freeze
// every thread of the interpreter). Uncontended locks never get here (RobustLock
// tries first). Without hooks (plain C++) BlockingWait does nothing.
#pragma once

namespace horus {

struct BlockingHooks {
    void* (*release)() = nullptr;      // returns a token (nullptr: nothing was released)
    void (*reacquire)(void*) = nullptr;
};

/// Installs the hooks (once, at module initialisation, before other threads use horus).
void set_blocking_hooks(BlockingHooks hooks);

class BlockingWait {
  public:
    BlockingWait() noexcept;
    ~BlockingWait();
    BlockingWait(const BlockingWait&) = delete;
    BlockingWait& operator=(const BlockingWait&) = delete;

  private:
    void* token_ = nullptr;
};

}  // namespace horus

// blocking_wait.cpp — see blocking_wait.hpp.
#include "horus/base/blocking_wait.hpp"

namespace horus {
namespace {
BlockingHooks g_hooks{};
}  // namespace

void set_blocking_hooks(BlockingHooks hooks) { g_hooks = hooks; }

BlockingWait::BlockingWait() noexcept : token_(g_hooks.release ? g_hooks.release() : nullptr) {}

BlockingWait::~BlockingWait() {
    if (token_ && g_hooks.reacquire) g_hooks.reacquire(token_);
}

}  // namespace horus

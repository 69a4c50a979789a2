// pool_test_access.hpp — test and fuzz access to Pool internals (Pool declares
// `friend struct PoolTestAccess`): build private Pool objects, reach the control
// block, and tear them down. Used by cpp/tests/test_hostile.cpp and cpp/fuzz/fuzz_pool.cpp.
#pragma once

#include "horus/pool.hpp"
#include "horus/pool_layout.hpp"

namespace horus {
struct PoolTestAccess {
    static Pool* make() { return new Pool(); }
    static void attach(Pool& p) { p.attach(); }
    static layout::PoolControl* control(Pool& p) { return p.control_; }
    static void destroy(Pool* p) {
        for (auto& m : p->mapped_) delete m.load();
        delete p;
    }
};
}  // namespace horus

// pool_test_access.hpp — test and fuzz access to Pool internals (Pool declares
// `friend struct PoolTestAccess`): build private Pool objects over the namespace of
// this process (they share its session slot and are never registered as reclamation
// participants), reach the pool control block, and tear them down.
// Used by cpp/tests/test_hostile.cpp and cpp/fuzz/fuzz_pool.cpp.
#pragma once

#include "horus/pool/pool.hpp"
#include "horus/pool/pool_layout.hpp"
#include "horus/session/session.hpp"

namespace horus {
struct PoolTestAccess {
    static Pool* make() { return new Pool(Session::instance()); }
    /// Maps the pool control block and takes this process's slot (no participant).
    static void attach(Pool& p) {
        Pool::instance();
        p.open_control();
        p.slot_ = p.session_.slot();
        p.detached_ = false;
    }
    static layout::PoolControl* control(Pool& p) { return p.control_; }
    static void destroy(Pool* p) {
        for (auto& m : p->mapped_) delete m.load();
        for (auto& m : p->metas_) delete m.load();
        delete p;
    }
};
}  // namespace horus

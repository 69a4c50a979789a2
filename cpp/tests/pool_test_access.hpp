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
    /// Maps the pool control block and uses this process's session slot (slot 0 if the
    /// session is not attached, as in the fuzzers); never registered as a participant.
    static void attach(Pool& p) {
        p.open_control();
        p.slot_ = p.session_.attached() ? p.session_.slot() : 0;
        p.detached_ = false;
    }
    /// Runs the pool's part of reclamation on `p` alone: a dead slot's bits cleared,
    /// ring counts reconciled against an empty (complete) census.
    static std::size_t reclaim(Pool& p, uint32_t dead_slot) {
        p.prepare();
        const ProcessRef dead[] = {ProcessRef{dead_slot, 1}};
        std::size_t n = p.clear_dead(dead) ? 1 : 0;
        ReferenceCensus census;
        return n + p.reconcile(census);
    }
    static layout::PoolControl* control(Pool& p) { return p.control_; }
    static void destroy(Pool* p) {
        for (auto& m : p->mapped_) delete m.load();
        for (auto& m : p->metas_) delete m.load();
        delete p;
    }
};
}  // namespace horus

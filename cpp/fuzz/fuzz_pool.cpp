// fuzz_pool.cpp — (c) a corrupt pool: control block, segment headers, state words.
//
// Each input: a fresh namespace state is built by a real Pool `owner` (control
// block + segments of two size classes, some blocks held), then the input
// patches bytes of the control block (process table, segment table, counters),
// of a segment's header and of its block state words. A second, fresh Pool
// `victim` (a new attacher: it maps every segment anew and re-validates it)
// then attaches, allocates, acquires input-chosen references, reads stats,
// reclaims and detaches. Every step must succeed or throw a horus::Error; the
// payload of every block handed out is written in full, so ASan reports a block
// that reaches past its mapping.
//
// Not fuzzed: the control block's process-shared mutex and `ready` flag (see
// fuzz_topic.cpp: a writer can always hold the mutex forever).
#include <cstddef>
#include <vector>

#include "fuzz_common.hpp"
#include "horus/base/error.hpp"
#include "horus/pool/pool.hpp"
#include "horus/pool/pool_layout.hpp"
#include "../tests/pool_test_access.hpp"


using namespace horus;
using PTA = horus::PoolTestAccess;

namespace {

void fill(Block& b, std::size_t bytes) {
    if (b) std::memset(b.data(), 0xA5, bytes);  // touches every byte the caller asked for
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    horus_fuzz::set_private_namespace("pool", "2M");  // small segments: fast iterations
    std::atexit([] { horus_fuzz::unlink_namespace(); });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    horus_fuzz::Input in(data, size);
    horus_fuzz::unlink_namespace();
    Pool* owner = PTA::make();
    std::vector<Block> held;
    try {
        PTA::attach(*owner);
        held.push_back(owner->allocate(1000));
        held.push_back(owner->allocate(100000));
        Block freed = owner->allocate(1000);  // a freed block: generation 1
    } catch (const horus::Error&) {
        held.clear();
        PTA::destroy(owner);
        horus_fuzz::unlink_namespace();
        return 0;
    }

    // Patches. target: 0 = control block, 1 = segment 0, 2 = segment 1.
    layout::PoolControl* ctl = PTA::control(*owner);
    const std::size_t mutex_off = offsetof(layout::PoolControl, mutex);
    const std::size_t mutex_end = mutex_off + sizeof(pthread_mutex_t);
    const std::size_t ready_off = offsetof(layout::PoolControl, ready);
    ShmObject segs[2] = {ShmObject::open_existing(shm_name("seg0")),
                          ShmObject::open_existing(shm_name("seg1"))};
    const uint8_t nops = in.take<uint8_t>() % 16;
    for (uint8_t k = 0; k < nops && in.left() >= 4; ++k) {
        const uint8_t target = in.take<uint8_t>() % 3;
        std::byte* base;
        std::size_t len;
        std::size_t off;
        if (target == 0) {
            base = reinterpret_cast<std::byte*>(ctl);
            len = sizeof(layout::PoolControl);
            // Bias towards the interesting fields: the first few entries of each table.
            off = in.take<uint16_t>() % (offsetof(layout::PoolControl, segments) + 4 * sizeof(layout::SegmentEntry));
        } else {
            ShmObject& s = segs[target - 1];
            if (!s.valid()) continue;
            base = static_cast<std::byte*>(s.data());
            len = 4096 + 64 * 8 < s.size() ? 4096 + 64 * 8 : s.size();  // header + first words
            off = in.take<uint16_t>() % len;
        }
        std::size_t n = in.take<uint8_t>() % 17;
        if (off + n > len) n = len - off;
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t at = off + i;
            uint8_t v = in.take<uint8_t>();
            if (target == 0 && ((at >= mutex_off && at < mutex_end) || (at >= ready_off && at < ready_off + 4)))
                continue;
            base[at] = static_cast<std::byte>(v);
        }
    }

    Pool* victim = PTA::make();
    bool attached = false;
    try {
        PTA::attach(*victim);
        attached = true;
        for (int i = 0; i < 4 && in.left() > 0; ++i) {
            const uint8_t op = in.take<uint8_t>();
            try {
                switch (op % 5) {
                    case 0: {
                        const std::size_t bytes = in.take<uint32_t>() % (1u << 20) + 1;
                        Block b = victim->allocate(bytes);
                        if (b.capacity() < bytes) __builtin_trap();  // must hold what was asked
                        fill(b, bytes);
                        break;
                    }
                    case 1: {
                        BlockRef r;
                        r.segment = in.take<uint8_t>() % 4;
                        r.index = in.take<uint16_t>();
                        r.generation = in.take<uint16_t>();
                        Block b = victim->acquire(r);
                        fill(b, b.capacity());
                        break;
                    }
                    case 2: (void)victim->stats(); break;
                    case 3: (void)PTA::reclaim(*victim, 1 + in.take<uint8_t>() % 39); break;
                    default: {
                        BlockRef r;
                        r.segment = in.take<uint8_t>() % 4;
                        r.index = in.take<uint16_t>();
                        r.generation = in.take<uint16_t>();
                        if (victim->add_ring_ref(r)) victim->remove_ring_ref(r);
                    }
                }
            } catch (const horus::Error&) {
            }
        }
    } catch (const horus::Error&) {
    }
    (void)attached;
    PTA::destroy(victim);
    held.clear();
    PTA::destroy(owner);
    horus_fuzz::unlink_namespace();
    return 0;
}

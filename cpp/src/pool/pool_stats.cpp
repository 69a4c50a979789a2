// pool_stats.cpp — PoolStats: a snapshot read from the meta parts of the segments.
#include "horus/base/error.hpp"
#include "horus/pool/pool.hpp"
#include "pool_internal.hpp"

namespace horus {
namespace bw = block_word;
using namespace pool_internal;

PoolStats Pool::stats() {
    PoolStats st;
    st.namespace_name = session_.name();
    st.max_bytes = max_bytes_;
    if (!control_) return st;
    st.reserved_bytes = control_->reserved_bytes.load(std::memory_order_acquire);
    st.reclaimed_processes = session_.reclaimed_processes();
    st.processes = session_.live_processes();
    for (uint32_t s = 0, n = segment_count(control_); s < n; ++s) {
        SegmentMeta* m = meta(s);
        if (!m) continue;
        ++st.segments;
        st.blocks_total += m->block_count;
        st.capacity_bytes += uint64_t{m->block_count} * m->block_size;
        for (uint32_t i = 0; i < m->block_count; ++i)
            if (!bw::is_free(m->words[i].load(std::memory_order_acquire))) {
                ++st.blocks_in_use;
                st.bytes_in_use += m->block_size;
            }
    }
    std::lock_guard<std::mutex> g(local_mutex_);
    for (auto& mapped : mapped_)
        if (MappedSegment* seg = mapped.load(std::memory_order_acquire))
            for (uint32_t i = 0; i < seg->block_count; ++i)
                if (seg->local_counts[i] > 0) ++st.local_blocks;
    return st;
}

}  // namespace horus

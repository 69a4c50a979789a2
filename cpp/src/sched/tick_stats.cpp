// tick_stats.cpp — NodeStats and its log-linear histogram (tick_stats.hpp).
#include "horus/sched/tick_stats.hpp"

#include <bit>
#include <cmath>

namespace horus {

int DurationHistogram::bucket_of(uint64_t ns) {
    if (ns < 16) return static_cast<int>(ns);
    const int e = 63 - std::countl_zero(ns);  // 4 .. 63
    const int sub = static_cast<int>((ns >> (e - 3)) & 7);
    const int b = 16 + (e - 4) * 8 + sub;
    return b < kBuckets ? b : kBuckets - 1;
}

uint64_t DurationHistogram::upper_edge(int bucket) {
    if (bucket < 16) return static_cast<uint64_t>(bucket);
    const int e = (bucket - 16) / 8 + 4;
    const uint64_t sub = static_cast<uint64_t>((bucket - 16) % 8);
    const uint64_t width = uint64_t{1} << (e - 3);
    const uint64_t lower = (8 + sub) * width;
    return lower + (width - 1);
}

void DurationHistogram::record(int64_t ns) {
    const uint64_t v = ns > 0 ? static_cast<uint64_t>(ns) : 0;
    ++buckets_[static_cast<std::size_t>(bucket_of(v))];
    ++count_;
    if (v > max_) max_ = v;
}

uint64_t DurationHistogram::percentile(double q) const {
    if (count_ == 0) return 0;
    if (!(q > 0)) q = 0;
    if (q > 1) q = 1;
    // The rank of the q-quantile, 1-based: ceil(q * count), at least 1.
    uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
    if (rank < 1) rank = 1;
    uint64_t seen = 0;
    for (int b = 0; b < kBuckets; ++b) {
        seen += buckets_[static_cast<std::size_t>(b)];
        if (seen >= rank) {
            const uint64_t edge = upper_edge(b);
            return edge < max_ ? edge : max_;  // never above the largest value seen
        }
    }
    return max_;
}

NodeStats::NodeStats(const NodeStats& o) { *this = o; }

NodeStats& NodeStats::operator=(const NodeStats& o) {
    if (this == &o) return *this;
    ticks = o.ticks;
    overruns = o.overruns;
    misses = o.misses;
    budget_overruns = o.budget_overruns;
    skipped = o.skipped;
    errors = o.errors;
    restarts = o.restarts;
    safe_mode_entries = o.safe_mode_entries;
    watchdog_expired.store(o.watchdog_expired.load(std::memory_order_relaxed), std::memory_order_relaxed);
    total_tick_s = o.total_tick_s;
    max_tick_s = o.max_tick_s;
    tick_ns = o.tick_ns;
    jitter_ns = o.jitter_ns;
    return *this;
}

}  // namespace horus

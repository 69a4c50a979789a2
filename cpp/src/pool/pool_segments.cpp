// pool_segments.cpp — creating pool segments and mapping them (meta part, payload).
#include <string>

#include "horus/base/error.hpp"
#include "horus/pool/pool.hpp"
#include "horus/session/namespace_name.hpp"
#include "pool_internal.hpp"

namespace horus {
using namespace pool_internal;
namespace {

std::string segment_name(uint32_t index) { return shm_name("seg" + std::to_string(index)); }

uint32_t blocks_per_segment(uint64_t block_size) {
    uint64_t n = kSegmentTarget / block_size;
    if (n < 1) n = 1;
    if (n > kMaxBlocksPerSegment) n = kMaxBlocksPerSegment;
    return static_cast<uint32_t>(n);
}

}  // namespace

SegmentMeta* Pool::meta_slow(uint32_t index) {
    if (index >= layout::kMaxSegments || !control_) return nullptr;
    std::lock_guard<std::mutex> map_lock(map_mutex_);
    return map_meta_locked(index);
}

SegmentMeta* Pool::map_meta_locked(uint32_t index) {
    if (SegmentMeta* m = metas_[index].load(std::memory_order_acquire)) return m;
    if (index >= segment_count(control_)) return nullptr;
    const layout::SegmentEntry& e = control_->segments[index];
    if (e.state.load(std::memory_order_acquire) != layout::kSegmentReady) return nullptr;
    const uint64_t block_size = e.block_size;
    const uint32_t count = e.block_count;
    const uint32_t size_class = e.size_class;
    const std::string name = segment_name(index);
    // block_size must be exactly its entry's size class: allocate() picks segments by
    // size_class, so a smaller block would be overrun by the message it holds, and an
    // unchecked huge block_size overflowed geometry()'s total (found by fuzz_pool).
    if (size_class > kMaxClass || block_size != class_block_size(size_class) || count == 0 ||
        count > kMaxBlocksPerSegment)
        throw CorruptSegment("pool segment table entry " + std::to_string(index) + " is corrupt (block size " +
                       std::to_string(block_size) + ", " + std::to_string(count) + " blocks)");
    const SegmentGeometry g = geometry(block_size, count);
    ShmObject shm = ShmObject::open_existing(name, g.payload_offset);
    if (!shm.valid()) throw ShmError("pool segment '/dev/shm" + name + "' is listed but missing");
    auto* h = static_cast<layout::SegmentHeader*>(shm.data());
    if (shm.file_size() != g.total || shm.size() != g.payload_offset || e.total_bytes != g.total ||
        h->magic != layout::kSegmentMagic || h->version != layout::kLayoutVersion || h->index != index ||
        h->block_size != block_size || h->block_count != count || h->words_offset != g.words_offset ||
        h->gens_offset != g.gens_offset || h->payload_offset != g.payload_offset || h->total_bytes != g.total)
        throw CorruptSegment("pool segment '/dev/shm" + name + "' does not match its table entry (size " +
                       std::to_string(shm.file_size()) + ", expected " + std::to_string(g.total) +
                       "); it is corrupt or foreign");
    auto* m = new SegmentMeta();
    auto* base = static_cast<std::byte*>(shm.data());
    m->index = index;
    m->block_count = count;
    m->block_size = block_size;
    m->header = h;
    m->words = reinterpret_cast<std::atomic<uint64_t>*>(base + g.words_offset);
    m->gens = reinterpret_cast<std::atomic<uint64_t>*>(base + g.gens_offset);
    m->shm = std::move(shm);
    metas_[index].store(m, std::memory_order_release);  // never unmapped while we live
    return m;
}

MappedSegment* Pool::segment_slow(uint32_t index) {
    if (index >= layout::kMaxSegments || !control_) return nullptr;
    std::lock_guard<std::mutex> map_lock(map_mutex_);
    if (MappedSegment* seg = mapped_[index].load(std::memory_order_acquire)) return seg;
    SegmentMeta* m = map_meta_locked(index);
    if (!m) return nullptr;
    const SegmentGeometry g = geometry(m->block_size, m->block_count);
    ShmObject full = ShmObject::open_existing(segment_name(index));
    if (!full.valid() || full.size() != g.total)
        throw ShmError("pool segment '/dev/shm" + segment_name(index) + "' changed size or vanished (" +
                       std::to_string(full.size()) + " bytes, expected " + std::to_string(g.total) + ")");
    auto* seg = new MappedSegment();
    seg->pool = this;
    seg->meta = m;
    seg->index = index;
    seg->block_count = m->block_count;
    seg->block_size = m->block_size;
    seg->words = m->words;
    seg->gens = m->gens;
    seg->payload = static_cast<std::byte*>(full.data()) + g.payload_offset;
    seg->payload_shm = std::move(full);
    seg->local_counts = std::make_unique<uint32_t[]>(m->block_count);
    seg->local_sealed = std::make_unique<std::atomic<uint8_t>[]>(m->block_count);
    mapped_[index].store(seg, std::memory_order_release);  // never unmapped while we live
    if (mapped_limit_.load(std::memory_order_relaxed) <= index)
        mapped_limit_.store(index + 1, std::memory_order_release);  // only under map_mutex_
    return seg;
}

uint32_t Pool::create_segment(uint32_t size_class) {
    const uint64_t block_size = class_block_size(size_class);
    uint32_t count = blocks_per_segment(block_size);
    const uint32_t index = control_->segment_count.load(std::memory_order_acquire);
    if (index >= layout::kMaxSegments) return kNoSegment;
    const uint64_t reserved = control_->reserved_bytes.load(std::memory_order_acquire);
    // (reserved_bytes is shared: compared as max - reserved so a corrupt value cannot wrap.)
    while (count > 0 && (reserved > max_bytes_ || geometry(block_size, count).total > max_bytes_ - reserved))
        count /= 2;
    if (count == 0) return kNoSegment;
    const std::string name = segment_name(index);
    ShmObject::unlink(name);  // left over from a creator that died before publishing it
    ShmObject shm;
    // /dev/shm itself may be fuller than our cap assumes (other namespaces, other
    // programs): try smaller segments, down to one block, before giving up.
    for (;; count /= 2) {
        if (count == 0) {
            dev_shm_full_ = true;  // named in the PoolExhausted message
            return kNoSegment;
        }
        try {
            shm = ShmObject::create_exclusive(name, geometry(block_size, count).total);
            break;
        } catch (const ShmNoSpace&) {
        }
    }
    if (!shm.valid()) throw ShmError("cannot create pool segment '/dev/shm" + name + "'");
    const SegmentGeometry g = geometry(block_size, count);
    auto* h = static_cast<layout::SegmentHeader*>(shm.data());
    h->magic = layout::kSegmentMagic;
    h->version = layout::kLayoutVersion;
    h->index = index;
    h->block_size = block_size;
    h->block_count = count;
    h->hint.store(0, std::memory_order_relaxed);
    h->words_offset = g.words_offset;
    h->gens_offset = g.gens_offset;
    h->payload_offset = g.payload_offset;
    h->total_bytes = g.total;
    // State words and generations start at zero: tag 0, free; generation 0 is never
    // handed out (the first allocation gets 4096), so a zero reference matches nothing.
    layout::SegmentEntry& e = control_->segments[index];
    e.size_class = size_class;
    e.block_count = count;
    e.block_size = block_size;
    e.total_bytes = g.total;
    e.state.store(layout::kSegmentReady, std::memory_order_release);
    control_->reserved_bytes.fetch_add(g.total, std::memory_order_acq_rel);
    control_->segment_count.store(index + 1, std::memory_order_release);
    return index;  // our mapping closes here; segment() maps it like any other
}

}  // namespace horus

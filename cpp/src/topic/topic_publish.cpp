// topic_publish.cpp — the hot path: publishing a descriptor into the ring and reading
// one out (the protocol is in topic_layout.hpp; the seq encoding in seqlock.hpp).
#include <cstring>
#include <ctime>

#include "horus/base/error.hpp"
#include "horus/base/futex.hpp"
#include "horus/pool/pool.hpp"
#include "horus/topic/layout_registry.hpp"
#include "horus/topic/topic_ring.hpp"
#include "topic_internal.hpp"

namespace horus {
namespace tl = topic_layout;
using namespace topic_internal;

uint64_t TopicRing::publish(Message& msg) {
    if (msg.record_layout() && msg.record_layout()->has_checks())
        if (std::string bad = msg.first_invalid_record(); !bad.empty())
            throw InvalidArgument("cannot send this Tensor of " + msg.record_layout()->name() + " records: " + bad);
    return publish_wire(msg.descriptor(), static_cast<uint32_t>(msg.kind()), msg.record_layout(), &msg, nullptr);
}

uint64_t TopicRing::publish(const BytesDescriptor& d, const RecordLayout* record, Block* payload) {
    BytesDescriptor w = d;
    w.frame_id[kFrameIdCapacity - 1] = '\0';
    w.frame_len = static_cast<uint8_t>(strnlen(w.frame_id, kFrameIdCapacity));  // what readers copy of frame_id
    return publish_wire(to_wire(w), static_cast<uint32_t>(d.kind), record, nullptr, payload);
}

uint64_t TopicRing::publish_wire(const TensorDescriptor& d, uint32_t kind, const RecordLayout* record, Message* msg,
                                 Block* payload) {
    ensure_member();
    Pool& pool = Pool::instance();
    const std::optional<BlockRef> ref = descriptor_block(d);
    // Ring references are taken and dropped only under the topic mutex, so whoever holds
    // every topic mutex (topic_reclaim.cpp) sees exactly the references the slots hold.
    // Everything that can fail is done before the first change to the ring: an error
    // leaves the topic as it was, and the guard always unlocks.
    bool typed_now = false;
    uint64_t seq = 0;
    {
        RobustLock guard = lock();
        // The topic's type is set once: the common case (it is this message's) is two loads.
        if (header_->kind.load(std::memory_order_acquire) != kind ||
            header_->type_hash.load(std::memory_order_acquire) != (record ? record->hash() : 0)) {
            check_type_locked(header_, name_, kind, record, TypeUse::Send);
            typed_now = record != nullptr;
        }
        const uint64_t s = header_->write_seq.load(std::memory_order_relaxed);
        seq = s;
        tl::TopicSlot& slot = slots_[s & (capacity_ - 1)];
        // An odd seq means a publisher died mid-write: its descriptor is not trusted (the
        // reconciliation after its death fixes the counts instead). A slot released early
        // (holds_ref 0) has no reference left to drop; nor has an inline message.
        std::optional<BlockRef> overwritten = slot_holds_ref(slot) ? slot_block(slot) : std::nullopt;
        if (overwritten) {
            switch (pool.reach(*overwritten)) {
                case Pool::Reach::Reachable: break;
                case Pool::Reach::Corrupt:
                    // A corrupt slot names no real block: nothing to drop (if a count was
                    // lost with it, reconciliation repairs it). Overwrite it.
                    overwritten.reset();
                    break;
                case Pool::Reach::Unreachable: {
                    std::string why;
                    pool.reach(*overwritten, &why);
                    throw ShmError("cannot send on topic '" + name_ + "': the message it replaces lives in pool segment " +
                                   std::to_string(overwritten->segment) + ", which this process cannot map now (" +
                                   why + ")");
                }
            }
        }
        if (ref && !pool.add_ring_ref(*ref))
            throw Error("cannot send on topic '" + name_ + "': the message is already held by " +
                        std::to_string(block_word::kRingMax) +
                        " topic slots (send a copy(), or use topics with smaller capacity)");
        if (msg) msg->mark_shared();
        if (payload) payload->seal();
        slot.holds_ref.store(0, std::memory_order_relaxed);
        slot.seq.store(seqlock::writing(s), std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
        store_descriptor(slot, d);
        slot.holds_ref.store(ref ? 1 : 0, std::memory_order_relaxed);
        slot.seq.store(seqlock::complete(s), std::memory_order_release);
        timespec now{};
        clock_gettime(CLOCK_REALTIME_COARSE, &now);  // for discovery: a few ns, ~4 ms resolution
        header_->last_send_ns.store(int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec, std::memory_order_relaxed);
        header_->write_seq.store(s + 1, std::memory_order_seq_cst);
        if (overwritten) pool.remove_ring_ref(*overwritten);
        release_read_locked(pool, s);
    }
    header_->futex_word.fetch_add(1, std::memory_order_seq_cst);
    if (header_->waiters.load(std::memory_order_seq_cst) > 0) futex_wake_all(header_->futex_word);
    if (typed_now) publish_layout_bundle(*record);  // this send typed the topic (layout_registry.hpp)
    return seq;
}

bool TopicRing::try_read(uint64_t& cursor, uint64_t& dropped, TensorDescriptor& desc, Block& block) {
    Pool& pool = Pool::instance();
    if (!pool.attached()) pool.require_attached();  // no slot: say so, never count messages as dropped
    for (;;) {
        const uint64_t ws = header_->write_seq.load(std::memory_order_seq_cst);
        if (cursor >= ws) {
            cursor = ws;
            return false;
        }
        if (ws - cursor > capacity_) {
            dropped += ws - cursor - capacity_;
            cursor = ws - capacity_;
        }
        tl::TopicSlot* slot = &slots_[cursor & (capacity_ - 1)];
        const uint64_t expect = seqlock::complete(cursor);
        const uint64_t s1 = slot->seq.load(std::memory_order_acquire);
        if (s1 != expect) {
            // s1 > expect: overwritten before we got to it. s1 < expect cannot be written
            // by a correct publisher once write_seq passed it: a corrupt ring. Skip it.
            ++dropped;
            ++cursor;
            continue;
        }
        TensorDescriptor d = load_message_descriptor(*slot);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (slot->seq.load(std::memory_order_relaxed) != s1) {
            ++dropped;
            ++cursor;
            continue;
        }
        const std::optional<BlockRef> ref = descriptor_block(d);
        if (!ref) {  // an inline message: the consistent copy is the whole message
            desc = d;
            block = Block();
            ++cursor;
            return true;
        }
        Block b;
        try {
            b = pool.acquire(*ref);
        } catch (const NotAttached&) {
            throw;  // not a property of the message: this process cannot receive at all
        } catch (const StaleReference&) {
            ++dropped;  // freed (and maybe reused) before we could take it: the message is gone
            ++cursor;
            continue;
        } catch (const ShmError&) {
            ++dropped;  // a corrupt reference (bad segment/block): never trusted
            ++cursor;
            continue;
        }
        if (slot->seq.load(std::memory_order_acquire) != s1) {
            ++dropped;  // overwritten while we acquired: the block may be another message's
            ++cursor;
            continue;
        }
        desc = d;
        block = std::move(b);
        ++cursor;
        return true;
    }
}

}  // namespace horus

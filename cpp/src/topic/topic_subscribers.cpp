// topic_subscribers.cpp — the topic's user and subscriber tables and early release
// (topic_layout.hpp says who writes what).
#include <algorithm>

#include "horus/pool/pool.hpp"
#include "horus/session/session.hpp"
#include "horus/topic/topic_ring.hpp"
#include "topic_internal.hpp"

namespace horus {
namespace tl = topic_layout;
using namespace topic_internal;

namespace topic_internal {

void shrink_subscriber_limit(tl::TopicHeader* h) noexcept {
    uint32_t limit = std::min(h->subscriber_limit, tl::kMaxSubscribers);
    while (limit > 0 && !live(h->subscribers[limit - 1].state)) --limit;
    h->subscriber_limit = limit;
}

bool reap_dead_users(tl::TopicHeader* h) noexcept {
    const Session& session = Session::instance();
    bool anyone = false;
    uint32_t overflow = 0;
    for (auto& user : h->users)
        if (live(user.state)) {
            if (session.is_live(ProcessRef{user.slot, user.incarnation})) {
                anyone = true;
                overflow += user.overflow_subscribers;
            } else {
                user.overflow_subscribers = 0;
                user.state.store(static_cast<uint32_t>(tl::EntryState::Free));
            }
        }
    h->overflow_subscribers = overflow;
    auto is_user = [h](uint32_t slot, uint64_t incarnation) {
        for (const auto& user : h->users)
            if (live(user.state) && user.slot == slot && user.incarnation == incarnation) return true;
        return false;
    };
    const uint32_t limit = std::min(h->subscriber_limit, tl::kMaxSubscribers);
    for (uint32_t i = 0; i < limit; ++i)
        if (live(h->subscribers[i].state) && !is_user(h->subscribers[i].slot, h->subscribers[i].incarnation))
            h->subscribers[i].state.store(static_cast<uint32_t>(tl::EntryState::Free));
    shrink_subscriber_limit(h);
    uint32_t endpoints = std::min(h->endpoint_limit, tl::kMaxEndpoints);
    for (uint32_t i = 0; i < endpoints; ++i) {
        tl::TopicEndpointEntry& e = h->endpoints[i];
        if (live(e.state) && !is_user(e.slot, e.incarnation))
            e.state.store(static_cast<uint32_t>(tl::EntryState::Free));
    }
    while (endpoints > 0 && !live(h->endpoints[endpoints - 1].state)) --endpoints;
    h->endpoint_limit = endpoints;
    return anyone;
}

}  // namespace topic_internal

uint32_t TopicRing::add_subscriber(uint64_t cursor) {
    ensure_member();  // the entry must name this process (a forked child subscribes as itself)
    RobustLock guard = lock();
    tl::TopicHeader* h = header_;
    uint32_t entry = kOverflowEntry;
    for (uint32_t i = 0; i < tl::kMaxSubscribers; ++i)
        if (!live(h->subscribers[i].state)) {
            entry = i;
            break;
        }
    if (entry == kOverflowEntry) {
        ++h->users[user_slot_].overflow_subscribers;
        ++h->overflow_subscribers;
    } else {
        tl::TopicSubscriber& sub = h->subscribers[entry];
        sub.slot = member_.slot;
        sub.incarnation = member_.incarnation;
        sub.cursor.store(cursor, std::memory_order_relaxed);
        sub.state.store(static_cast<uint32_t>(tl::EntryState::Live), std::memory_order_relaxed);
        h->subscriber_limit = std::max(std::min(h->subscriber_limit, tl::kMaxSubscribers), entry + 1);
    }
    return entry;
}

void TopicRing::remove_subscriber(uint32_t entry) noexcept {
    if (!header_) return;
    RobustLock guard(header_->mutex, std::nothrow);
    if (!guard.owns_lock()) return;  // the entry is freed with our user entry when the topic is next reaped
    tl::TopicHeader* h = header_;
    if (entry == kOverflowEntry) {
        if (h->users[user_slot_].overflow_subscribers > 0) --h->users[user_slot_].overflow_subscribers;
        if (h->overflow_subscribers > 0) --h->overflow_subscribers;
    } else if (entry < tl::kMaxSubscribers) {
        h->subscribers[entry].state.store(static_cast<uint32_t>(tl::EntryState::Free), std::memory_order_relaxed);
        shrink_subscriber_limit(h);
    }
}

void TopicRing::release_read() {
    ensure_member();
    Pool& pool = Pool::instance();
    RobustLock guard = lock();
    const uint64_t ws = header_->write_seq.load(std::memory_order_relaxed);
    if (ws > 0) release_read_locked(pool, ws - 1);
}

void TopicRing::release_read_locked(Pool& pool, uint64_t newest) {
    tl::TopicHeader* h = header_;
    if (h->overflow_subscribers != 0) return;  // a subscriber we cannot see: keep everything
    uint64_t until = newest;                    // the newest message is never released early
    const uint32_t limit = std::min(h->subscriber_limit, tl::kMaxSubscribers);
    for (uint32_t i = 0; i < limit; ++i) {
        const tl::TopicSubscriber& sub = h->subscribers[i];
        if (live(sub.state)) until = std::min(until, sub.cursor.load(std::memory_order_acquire));
    }
    // Older messages were overwritten. (Written so that a corrupt write_seq near 2^64
    // cannot wrap it: then the loop below would not end; found by fuzz_topic.)
    const uint64_t oldest = newest >= capacity_ ? newest - capacity_ + 1 : 0;
    uint64_t from = h->release_seq;
    if (from < oldest || from > newest) from = oldest;  // (also a corrupt value: never trusted)
    for (uint64_t m = from; m < until; ++m) {  // at most capacity_ messages: oldest <= from <= until <= newest
        tl::TopicSlot& slot = slots_[m & (capacity_ - 1)];
        if (slot.seq.load(std::memory_order_relaxed) != seqlock::complete(m) ||
            slot.holds_ref.load(std::memory_order_relaxed) == 0)
            continue;
        const std::optional<BlockRef> named = slot_block(slot);
        const BlockRef block = named.value_or(BlockRef{});
        const Pool::Reach reach = named ? pool.reach(block) : Pool::Reach::Corrupt;
        if (reach == Pool::Reach::Unreachable) continue;  // cannot map it now: released when overwritten
        if (reach == Pool::Reach::Corrupt) {              // names no real block: nothing to drop
            slot.holds_ref.store(0, std::memory_order_relaxed);
            continue;
        }
        // Flag first: a publisher killed between the two leaves a count one too high,
        // which reclamation repairs (it counts flagged slots), never one too low.
        slot.holds_ref.store(0, std::memory_order_relaxed);
        pool.remove_ring_ref(block);
    }
    h->release_seq = std::max(from, until);
}

}  // namespace horus

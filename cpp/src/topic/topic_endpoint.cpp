// topic_endpoint.cpp — one Topic object's cursor and subscriber entry (see topic_endpoint.hpp).
#include "horus/topic/topic_endpoint.hpp"

#include <algorithm>
#include <utility>

#include "horus/session/session.hpp"

namespace horus {

namespace tl = topic_layout;

TopicEndpoint::TopicEndpoint(std::shared_ptr<TopicRing> ring) : TopicEndpoint(std::move(ring), std::string(), 0) {}

TopicEndpoint::TopicEndpoint(std::shared_ptr<TopicRing> ring, const std::string& node, uint32_t roles)
    : ring_(std::move(ring)), cursor_(ring_->write_sequence()) {
    subscribe();
    try {
        listed_ = ring_->add_endpoint(node, roles);
    } catch (...) {
        unsubscribe();
        throw;
    }
    listed_by_ = ring_->member();
    roles_ = roles;
}

TopicEndpoint::~TopicEndpoint() {
    unsubscribe();
    if (listed_ != kNoEntry && ring_ && listed_by_ == ring_->session().self()) ring_->remove_endpoint(listed_);
}

TopicEndpoint::TopicEndpoint(TopicEndpoint&& other) noexcept
    : ring_(std::move(other.ring_)), cursor_(other.cursor_), dropped_(other.dropped_),
      entry_(std::exchange(other.entry_, kNoEntry)), owner_(other.owner_), has_read_(other.has_read_),
      listed_(std::exchange(other.listed_, kNoEntry)), listed_by_(other.listed_by_), roles_(other.roles_) {}

TopicEndpoint& TopicEndpoint::operator=(TopicEndpoint&& other) noexcept {
    if (this != &other) {
        unsubscribe();
        if (listed_ != kNoEntry && ring_ && listed_by_ == ring_->session().self()) ring_->remove_endpoint(listed_);
        ring_ = std::move(other.ring_);
        cursor_ = other.cursor_;
        dropped_ = other.dropped_;
        entry_ = std::exchange(other.entry_, kNoEntry);
        owner_ = other.owner_;
        has_read_ = other.has_read_;
        listed_ = std::exchange(other.listed_, kNoEntry);
        listed_by_ = other.listed_by_;
        roles_ = other.roles_;
    }
    return *this;
}

void TopicEndpoint::subscribe() {
    entry_ = ring_->add_subscriber(cursor_);
    owner_ = ring_->member();
}

bool TopicEndpoint::holds_messages() const { return entry_ != kNoEntry && owner_ == ring_->session().self(); }

void TopicEndpoint::unsubscribe() noexcept {
    // An entry taken before a fork() is the parent's: the child leaves it alone.
    if (entry_ != kNoEntry && ring_ && owner_ == ring_->session().self()) ring_->remove_subscriber(entry_);
    entry_ = kNoEntry;
}

void TopicEndpoint::list_as(const std::string& node, uint32_t roles) {
    const uint32_t entry = ring_->add_endpoint(node, roles_ | roles);
    if (listed_ != kNoEntry && listed_by_ == ring_->session().self()) ring_->remove_endpoint(listed_);
    listed_ = entry;
    listed_by_ = ring_->member();
    roles_ |= roles;
}

void TopicEndpoint::note_role(uint32_t role) noexcept {
    roles_ |= role;
    if (listed_ != kNoEntry && listed_by_ == ring_->session().self()) ring_->note_roles(listed_, role);
}

uint64_t TopicEndpoint::publish(Message& msg) {
    if (!(roles_ & tl::kPublishes)) note_role(tl::kPublishes);
    if (!has_read_ && entry_ != kNoEntry) unsubscribe();  // a publisher: it keeps nothing for itself
    return ring_->publish(msg);
}

uint64_t TopicEndpoint::publish(const BytesDescriptor& d, const RecordLayout* record, Block* payload) {
    if (!(roles_ & tl::kPublishes)) note_role(tl::kPublishes);
    if (!has_read_ && entry_ != kNoEntry) unsubscribe();
    return ring_->publish(d, record, payload);
}

bool TopicEndpoint::try_read(TensorDescriptor& desc, Block& block) {
    if (!has_read_) {
        has_read_ = true;
        if (!(roles_ & tl::kSubscribes)) note_role(tl::kSubscribes);
        if (entry_ == kNoEntry) subscribe();  // a publisher that starts reading
    }
    const uint64_t before = cursor_;
    const bool got = ring_->try_read(cursor_, dropped_, desc, block);
    // After the block was acquired: publishers may now release what we passed. An inline
    // message holds no block, so reading it releases nothing: the cursor is published
    // again with the next message that has one (or the next empty read), which keeps
    // the subscriber's cache line out of an inline topic's hot path.
    if (cursor_ != before && holds_messages() && (!got || block.valid())) ring_->store_cursor(entry_, cursor_);
    return got;
}

uint64_t TopicEndpoint::pending() const {
    const uint64_t ws = ring_->write_sequence();
    return ws > cursor_ ? std::min<uint64_t>(ws - cursor_, ring_->capacity()) : 0;
}

}  // namespace horus

// test_block_word.cpp — the pure state-word transitions of block_word.hpp.
#include <gtest/gtest.h>

#include "horus/pool/block_word.hpp"

namespace bw = horus::block_word;

namespace {

TEST(BlockWord, LayoutConstants) {
    static_assert(bw::kMaxHolders == 40);
    static_assert((bw::kMaskBits & bw::kRingBits) == 0);
    static_assert((bw::kInUseBits >> bw::kTagShift) == 0);
    static_assert(bw::tag(bw::make(bw::kTagMax, 0, 0)) == bw::kTagMax);
    static_assert(bw::ring_count(bw::make(0, 0, bw::kRingMax)) == bw::kRingMax);
    static_assert(bw::holders(bw::make(7, bw::kMaskBits, bw::kRingMax)) == bw::kMaskBits);
    EXPECT_TRUE(bw::is_free(0));
    EXPECT_EQ(bw::tag(0), 0u);
}

TEST(BlockWord, AllocateFreeWordOnly) {
    const uint64_t free_gen5 = bw::make(5, 0, 0);
    auto w = bw::allocate(free_gen5, 3);
    ASSERT_TRUE(w);
    EXPECT_EQ(bw::holders(*w), bw::holder_bit(3));
    EXPECT_EQ(bw::tag(*w), 5u);
    EXPECT_EQ(bw::ring_count(*w), 0u);
    EXPECT_FALSE(bw::is_free(*w));
    EXPECT_FALSE(bw::allocate(*w, 4)) << "a held block must not be allocated again";
    EXPECT_FALSE(bw::allocate(bw::make(5, 0, 1), 4)) << "a ring-held block is not free";
}

TEST(BlockWord, HighestSlot) {
    auto w = bw::allocate(0, bw::kMaxHolders - 1);
    ASSERT_TRUE(w);
    EXPECT_EQ(bw::holders(*w), uint64_t{1} << 39);
    EXPECT_EQ(bw::ring_count(*w), 0u);
    EXPECT_EQ(bw::tag(*w), 0u);
    auto r = bw::remove_holder(*w, 0, bw::kMaxHolders - 1);
    ASSERT_TRUE(r);
    EXPECT_TRUE(bw::is_free(*r));
    EXPECT_EQ(bw::tag(*r), 1u);
}

TEST(BlockWord, AddHolder) {
    const uint64_t w = *bw::allocate(bw::make(2, 0, 0), 1);
    auto w2 = bw::add_holder(w, 2, 7);
    ASSERT_TRUE(w2);
    EXPECT_EQ(bw::holders(*w2), bw::holder_bit(1) | bw::holder_bit(7));
    EXPECT_EQ(bw::tag(*w2), 2u);
    // Idempotent for a slot that already holds it.
    EXPECT_EQ(bw::add_holder(*w2, 2, 7), w2);
    // Stale generation rejected.
    EXPECT_FALSE(bw::add_holder(w, 1, 7));
    EXPECT_FALSE(bw::add_holder(w, 3, 7));
    // Acquire of a free block rejected, whatever the generation.
    EXPECT_FALSE(bw::add_holder(bw::make(2, 0, 0), 2, 7));
    EXPECT_FALSE(bw::add_holder(0, 0, 0));
}

TEST(BlockWord, RemoveHolder) {
    uint64_t w = *bw::allocate(bw::make(9, 0, 0), 0);
    w = *bw::add_holder(w, 9, 5);
    // Not a holder / stale generation: no-op.
    EXPECT_FALSE(bw::remove_holder(w, 9, 6));
    EXPECT_FALSE(bw::remove_holder(w, 8, 0));
    auto w1 = bw::remove_holder(w, 9, 0);
    ASSERT_TRUE(w1);
    EXPECT_EQ(bw::holders(*w1), bw::holder_bit(5));
    EXPECT_EQ(bw::tag(*w1), 9u) << "not freed yet: generation unchanged";
    EXPECT_FALSE(bw::is_free(*w1));
    auto w2 = bw::remove_holder(*w1, 9, 5);
    ASSERT_TRUE(w2);
    EXPECT_TRUE(bw::is_free(*w2));
    EXPECT_EQ(bw::tag(*w2), 10u) << "the last release bumps the generation";
    // The old generation can neither acquire nor release it any more.
    EXPECT_FALSE(bw::add_holder(*w2, 9, 5));
    EXPECT_FALSE(bw::remove_holder(*w2, 9, 5));
    EXPECT_FALSE(bw::remove_holder(*w2, 10, 5));
}

TEST(BlockWord, GenerationWraps) {
    uint64_t w = *bw::allocate(bw::make(bw::kTagMax, 0, 0), 3);
    EXPECT_EQ(bw::tag(w), bw::kTagMax);
    auto freed = bw::remove_holder(w, bw::kTagMax, 3);
    ASSERT_TRUE(freed);
    EXPECT_TRUE(bw::is_free(*freed));
    EXPECT_EQ(bw::tag(*freed), 0u);
    EXPECT_EQ(*freed, 0u) << "wrapping must not spill into other bits";
    // Generations given by callers are compared modulo 2^12.
    uint64_t again = *bw::allocate(*freed, 3);
    EXPECT_TRUE(bw::add_holder(again, 0x1000, 4));
    EXPECT_TRUE(bw::remove_holder(again, 0x1000, 3));
}

TEST(BlockWord, RingReferences) {
    // A ring ref needs a live block of the right generation.
    EXPECT_FALSE(bw::add_ring_ref(bw::make(4, 0, 0), 4));
    uint64_t w = *bw::allocate(bw::make(4, 0, 0), 2);
    EXPECT_FALSE(bw::add_ring_ref(w, 3));
    w = *bw::add_ring_ref(w, 4);
    w = *bw::add_ring_ref(w, 4);
    EXPECT_EQ(bw::ring_count(w), 2u);
    EXPECT_EQ(bw::holders(w), bw::holder_bit(2));
    // The process lets go: the ring keeps the block alive.
    w = *bw::remove_holder(w, 4, 2);
    EXPECT_FALSE(bw::is_free(w));
    EXPECT_EQ(bw::tag(w), 4u);
    EXPECT_EQ(bw::holders(w), 0u);
    // Another process can still acquire it (live, same generation).
    EXPECT_TRUE(bw::add_holder(w, 4, 9));
    EXPECT_FALSE(bw::remove_ring_ref(w, 5)) << "stale generation";
    w = *bw::remove_ring_ref(w, 4);
    EXPECT_EQ(bw::ring_count(w), 1u);
    EXPECT_FALSE(bw::is_free(w));
    w = *bw::remove_ring_ref(w, 4);
    EXPECT_TRUE(bw::is_free(w));
    EXPECT_EQ(bw::tag(w), 5u);
    EXPECT_FALSE(bw::remove_ring_ref(w, 5)) << "ring count 0: nothing to drop";
    EXPECT_FALSE(bw::remove_ring_ref(w, 4));
}

TEST(BlockWord, RingCountSaturates) {
    const uint64_t full = bw::make(1, bw::holder_bit(0), bw::kRingMax);
    EXPECT_FALSE(bw::add_ring_ref(full, 1));
    auto less = bw::remove_ring_ref(full, 1);
    ASSERT_TRUE(less);
    EXPECT_EQ(bw::ring_count(*less), bw::kRingMax - 1);
    EXPECT_EQ(bw::holders(*less), bw::holder_bit(0));
}

TEST(BlockWord, ProcessReleaseKeepsRingRefs) {
    uint64_t w = *bw::allocate(0, 1);
    w = *bw::add_ring_ref(w, 0);
    w = *bw::remove_holder(w, 0, 1);
    w = *bw::add_holder(w, 0, 1);
    EXPECT_EQ(bw::ring_count(w), 1u);
    w = *bw::remove_holder(w, 0, 1);
    EXPECT_EQ(bw::ring_count(w), 1u);
    EXPECT_FALSE(bw::is_free(w));
}

TEST(BlockWord, DeadHolderRemoval) {
    uint64_t w = *bw::allocate(bw::make(77, 0, 0), 6);
    w = *bw::add_holder(w, 77, 8);
    EXPECT_FALSE(bw::remove_dead_holders(w, bw::holder_bit(7))) << "slot 7 holds nothing";
    w = *bw::remove_dead_holders(w, bw::holder_bit(6));
    EXPECT_EQ(bw::holders(w), bw::holder_bit(8));
    w = *bw::remove_dead_holders(w, bw::holder_bit(8));
    EXPECT_TRUE(bw::is_free(w));
    EXPECT_EQ(bw::tag(w), 78u);
    EXPECT_FALSE(bw::remove_dead_holders(w, bw::holder_bit(8)));
}

}  // namespace

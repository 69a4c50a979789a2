// test_stale_reference.cpp — a reference to a freed block can never become valid again
// (issue 10, defect 2): the 12-bit tag in the block word wraps after 4096 frees, so the
// 64-bit generation beside it decides (pool/block_word.hpp).
#include <gtest/gtest.h>

#include <cstring>

#include "horus/base/error.hpp"
#include "horus/msg/image.hpp"
#include "horus/pool/pool.hpp"
#include "horus/topic/topic.hpp"

using namespace horus;

TEST(StaleReference, StaysStaleAfterAMillionRecycles) {
    Pool& pool = Pool::instance();
    Block first = pool.allocate(900);  // its own size class: this test recycles one block
    const BlockRef old = first.ref();
    first.reset();
    int same_block = 0;
    for (int i = 0; i < 1'000'000; ++i) {
        Block b = pool.allocate(900);
        if (b.ref().segment == old.segment && b.ref().index == old.index) {
            ++same_block;
            ASSERT_NE(b.ref().generation, old.generation);
        }
        if (i % 4096 == 4095 || i == 999'999) {
            // Whatever the tag is now, the old reference must not be taken.
            EXPECT_THROW(pool.acquire(old), StaleReference) << "after " << i + 1 << " recycles";
        }
    }
    EXPECT_GT(same_block, 900'000) << "the test must recycle the very block the reference named";
    // While the block is live with a tag equal to the old one, still stale.
    for (int i = 0; i < 4096; ++i) {
        Block b = pool.allocate(900);
        if (b.ref().index == old.index && block_word::tag_of(b.ref().generation) == block_word::tag_of(old.generation)) {
            EXPECT_THROW(pool.acquire(old), StaleReference) << "a live block whose tag matches the stale reference";
            EXPECT_EQ(pool.acquire(b.ref()).data(), b.data());
            return;
        }
    }
    FAIL() << "never saw the old tag again";
}

TEST(StaleReference, GenerationZeroIsNeverHandedOut) {
    Pool& pool = Pool::instance();
    Block b = pool.allocate(1200);
    EXPECT_NE(b.ref().generation, 0u);
    BlockRef zero = b.ref();
    zero.generation = 0;
    EXPECT_THROW(pool.acquire(zero), StaleReference);
}

// The reproduction: a Topic that published first and reads later still has
// slots naming released blocks; after 4096*k frees its try_recv() returned old
// metadata over a live, unrelated image's pixels. Every message received must carry
// its own pixels.
TEST(StaleReference, APublisherReadingLaterNeverGetsAnotherMessagesPixels) {
    Topic<Image> topic("stale.pixels");
    for (int i = 0; i < 8; ++i) {
        Image img(48, 64, Encoding::Mono8);
        std::memset(img.mutable_data(), i + 1, img.nbytes());
        img.set_frame_id("sent-" + std::to_string(i + 1));
        topic.send(img);
    }
    std::vector<Image> live;
    for (int i = 0; i < 8191; ++i) {
        Image tmp(48, 64, Encoding::Mono8);
        std::memset(tmp.mutable_data(), 200, tmp.nbytes());
        if (i % 1024 == 0) live.push_back(tmp);  // some stay alive, as in a real pipeline
    }
    int received = 0;
    while (auto m = topic.try_recv()) {
        ++received;
        const std::string id(m->frame_id());
        ASSERT_EQ(id.rfind("sent-", 0), 0u);
        const int value = std::stoi(id.substr(5));
        for (std::size_t k = 0; k < m->nbytes(); ++k)
            ASSERT_EQ(static_cast<int>(m->data()[k]), value) << "message " << id << " carries another's pixels";
    }
    EXPECT_LE(received, 8);
    EXPECT_EQ(static_cast<uint64_t>(received) + topic.dropped(), 8u);
}

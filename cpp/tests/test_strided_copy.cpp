// test_strided_copy.cpp — is_c_contiguous and copy_strided against a naive reference.
#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "horus/msg/strided_copy.hpp"

using namespace horus;

namespace {

// Naive reference: element by element in C order.
std::vector<std::byte> reference(const std::byte* src, const std::vector<uint64_t>& shape,
                                 const std::vector<int64_t>& strides, std::size_t item) {
    std::size_t n = 1;
    for (auto s : shape) n *= s;
    std::vector<std::byte> out(n * item);
    std::vector<uint64_t> idx(shape.size(), 0);
    for (std::size_t k = 0; k < n; ++k) {
        int64_t off = 0;
        for (std::size_t d = 0; d < shape.size(); ++d) off += static_cast<int64_t>(idx[d]) * strides[d];
        std::memcpy(out.data() + k * item, src + off, item);
        for (std::size_t d = shape.size(); d-- > 0;) {
            if (++idx[d] < shape[d]) break;
            idx[d] = 0;
        }
    }
    return out;
}

std::vector<std::byte> run(const std::byte* src, const std::vector<uint64_t>& shape,
                           const std::vector<int64_t>& strides, std::size_t item) {
    std::size_t n = 1;
    for (auto s : shape) n *= s;
    std::vector<std::byte> out(n * item, std::byte{0xEE});
    copy_strided(out.data(), src, shape, strides, item);
    return out;
}

std::vector<std::byte> iota_bytes(std::size_t n) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = std::byte(i * 7 + 3);
    return v;
}

TEST(StridedCopy, ContiguityDetection) {
    EXPECT_TRUE(is_c_contiguous(std::vector<uint64_t>{2, 3}, std::vector<int64_t>{12, 4}, 4));
    EXPECT_FALSE(is_c_contiguous(std::vector<uint64_t>{2, 3}, std::vector<int64_t>{4, 8}, 4));
    EXPECT_FALSE(is_c_contiguous(std::vector<uint64_t>{2, 3}, std::vector<int64_t>{24, 4}, 4));
    // Size-1 dimensions may have any stride.
    EXPECT_TRUE(is_c_contiguous(std::vector<uint64_t>{1, 3}, std::vector<int64_t>{999, 1}, 1));
    EXPECT_TRUE(is_c_contiguous(std::vector<uint64_t>{3, 1}, std::vector<int64_t>{1, -5}, 1));
    // Empty arrays are contiguous whatever the strides.
    EXPECT_TRUE(is_c_contiguous(std::vector<uint64_t>{0, 3}, std::vector<int64_t>{7, 7}, 1));
    // 0-d.
    EXPECT_TRUE(is_c_contiguous(std::vector<uint64_t>{}, std::vector<int64_t>{}, 8));
    EXPECT_FALSE(is_c_contiguous(std::vector<uint64_t>{4}, std::vector<int64_t>{-1}, 1));
}

TEST(StridedCopy, Transpose) {
    auto src = iota_bytes(3 * 4 * 4);
    // A (3, 4) float32 array viewed transposed as (4, 3).
    std::vector<uint64_t> shape{4, 3};
    std::vector<int64_t> strides{4, 16};
    EXPECT_EQ(run(src.data(), shape, strides, 4), reference(src.data(), shape, strides, 4));
}

TEST(StridedCopy, SlicesAndNegativeStrides) {
    auto src = iota_bytes(10 * 10 * 3);
    // Every second row, reversed columns, rgb channels contiguous.
    std::vector<uint64_t> shape{5, 10, 3};
    std::vector<int64_t> strides{60, -3, 1};
    const std::byte* start = src.data() + 9 * 3;  // column 9 of row 0
    EXPECT_EQ(run(start, shape, strides, 1), reference(start, shape, strides, 1));
    // Row-reversed (negative outer stride), inner rows contiguous: memcpy runs.
    std::vector<uint64_t> s2{10, 30};
    std::vector<int64_t> st2{-30, 1};
    const std::byte* last = src.data() + 9 * 30;
    EXPECT_EQ(run(last, s2, st2, 1), reference(last, s2, st2, 1));
    // Broadcast (stride 0).
    std::vector<uint64_t> s3{4, 3};
    std::vector<int64_t> st3{0, 1};
    EXPECT_EQ(run(src.data(), s3, st3, 1), reference(src.data(), s3, st3, 1));
}

TEST(StridedCopy, ContiguousAndDegenerate) {
    auto src = iota_bytes(2 * 3 * 4 * 8);
    std::vector<uint64_t> shape{2, 3, 4};
    std::vector<int64_t> strides{96, 32, 8};
    auto out = run(src.data(), shape, strides, 8);
    EXPECT_EQ(out, src);
    // 0-d: one element.
    auto one = run(src.data() + 8, {}, {}, 8);
    EXPECT_EQ(std::vector<std::byte>(src.begin() + 8, src.begin() + 16), one);
    // Zero-size: nothing copied, nothing read.
    std::vector<std::byte> dst(4, std::byte{1});
    copy_strided(dst.data(), nullptr, std::vector<uint64_t>{3, 0}, std::vector<int64_t>{5, 5}, 4);
    EXPECT_EQ(dst[0], std::byte{1});
    // Size-1 dims with odd strides.
    std::vector<uint64_t> s1{1, 4, 1};
    std::vector<int64_t> st1{12345, 2, -99};
    EXPECT_EQ(run(src.data(), s1, st1, 2), reference(src.data(), s1, st1, 2));
}

TEST(StridedCopy, RandomLayoutsMatchReference) {
    std::mt19937 rng(7);
    auto src = iota_bytes(1 << 16);
    for (int iter = 0; iter < 300; ++iter) {
        const std::size_t nd = 1 + rng() % 5;
        const std::size_t item = std::size_t{1} << (rng() % 4);
        std::vector<uint64_t> shape(nd);
        for (auto& s : shape) s = 1 + rng() % 4;
        // Strides of a permuted, possibly padded, contiguous parent array.
        std::vector<std::size_t> perm(nd);
        std::iota(perm.begin(), perm.end(), 0);
        std::shuffle(perm.begin(), perm.end(), rng);
        std::vector<int64_t> strides(nd);
        int64_t acc = static_cast<int64_t>(item);
        for (std::size_t k = nd; k-- > 0;) {
            const std::size_t d = perm[k];
            strides[d] = acc;
            acc *= static_cast<int64_t>(shape[d] + rng() % 2);
        }
        ASSERT_LT(acc, 1 << 16);
        EXPECT_EQ(run(src.data(), shape, strides, item), reference(src.data(), shape, strides, item))
            << "iteration " << iter;
    }
}

}  // namespace

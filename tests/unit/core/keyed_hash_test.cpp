#include "core/keyed_hash.hpp"

#include <gtest/gtest.h>

#include <string>
#include <unordered_set>

#include "core/dedup_cache.hpp"

namespace psycho {
namespace {

std::string counting_bytes(std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(i));
  return s;
}

constexpr HashKey kReferenceKey{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};

TEST(KeyedHash, SipHash24MatchesThePapersTestVector) {
  // Key 00..0f, message 00..0e: the example in the SipHash paper's appendix.
  EXPECT_EQ((siphash<2, 4>(kReferenceKey, counting_bytes(15))), 0xa129ca6149be45e5ULL);
}

TEST(KeyedHash, TwoWordFormIsSipHash13OfTheirBytes) {
  const std::uint64_t a = 0x0706050403020100ULL, b = 0x0f0e0d0c0b0a0908ULL;
  EXPECT_EQ(siphash13(kReferenceKey, a, b), (siphash<1, 3>(kReferenceKey, counting_bytes(16))));
}

TEST(KeyedHash, OutputDependsOnTheKey) {
  EXPECT_NE(siphash13(HashKey{1, 2}, 42, 7), siphash13(HashKey{1, 3}, 42, 7));
  EXPECT_NE(siphash13(HashKey{1, 2}, 42, 7), siphash13(HashKey{2, 2}, 42, 7));
}

TEST(KeyedHash, ProcessKeyIsDrawnOnceAndIsNotZero) {
  const HashKey& a = process_hash_key();
  const HashKey& b = process_hash_key();
  EXPECT_EQ(&a, &b);
  EXPECT_FALSE(a.k0 == 0 && a.k1 == 0);
}

// The flood that hurt: (node, seq) pairs a peer chose so that an unkeyed `node * C ^ seq`
// maps them all to one value. Keyed, they spread over the buckets like any other keys.
TEST(DedupCacheHash, KeysChosenToCollideDoNotShareABucket) {
  constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ULL;
  constexpr std::size_t kKeys = 65'536, kBuckets = 65'536;
  std::unordered_set<std::size_t> buckets;
  for (std::uint64_t node = 1; node <= kKeys; ++node) {
    // What DedupCache remembers a (node, seq) by, and which slot that takes.
    buckets.insert(KeyedHash{}(node, (node * kGolden) ^ 0x1234) % kBuckets);
  }
  // Random placement of 65,536 keys fills about 63% of 65,536 buckets.
  EXPECT_GT(buckets.size(), kBuckets / 2);
}

TEST(DedupCacheHash, CollidingKeysAreStillToldApart) {
  DedupCache cache(1024);
  constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ULL;
  for (std::uint64_t node = 1; node <= 512; ++node) {
    EXPECT_TRUE(cache.insert(node, (node * kGolden) ^ 0x1234));
  }
  for (std::uint64_t node = 1; node <= 512; ++node) {
    EXPECT_FALSE(cache.insert(node, (node * kGolden) ^ 0x1234));
  }
}

}  // namespace
}  // namespace psycho

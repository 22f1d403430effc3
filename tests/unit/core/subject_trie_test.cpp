#include "core/subject_trie.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "fakes.hpp"

namespace psycho {
namespace {

using testing::FakeWorkers;
using testing::RecordingSubscriber;

std::vector<OriginId> ids_matching(const SubjectTrie& trie, std::string_view subject) {
  std::vector<OriginId> ids;
  trie.match(subject, [&](const SubscriptionEntry& e) { ids.push_back(e.subscriber->id()); });
  std::sort(ids.begin(), ids.end());
  return ids;
}

TEST(SubjectTrie, MatchesLiteralsAndWildcards) {
  FakeWorkers pool(1);
  SubjectTrie trie;
  const std::vector<std::string> patterns = {"a.b", "a.*", "a.>", ">", "*.b", "a.b.c", "x"};
  std::vector<std::shared_ptr<RecordingSubscriber>> subs;
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    subs.push_back(std::make_shared<RecordingSubscriber>(i + 1, 0, pool));
    ASSERT_TRUE(trie.insert(patterns[i], subs.back(), ""));
  }
  EXPECT_EQ(trie.size(), patterns.size());
  EXPECT_EQ(ids_matching(trie, "a.b"), (std::vector<OriginId>{1, 2, 3, 4, 5}));
  EXPECT_EQ(ids_matching(trie, "a.c"), (std::vector<OriginId>{2, 3, 4}));
  EXPECT_EQ(ids_matching(trie, "a.b.c"), (std::vector<OriginId>{3, 4, 6}));
  EXPECT_EQ(ids_matching(trie, "x"), (std::vector<OriginId>{4, 7}));
  EXPECT_EQ(ids_matching(trie, "a"), (std::vector<OriginId>{4}));
  EXPECT_EQ(ids_matching(trie, "q.b"), (std::vector<OriginId>{4, 5}));
}

TEST(SubjectTrie, DuplicateInsertIsRejectedAndQueueMakesItDistinct) {
  FakeWorkers pool(1);
  SubjectTrie trie;
  auto s = std::make_shared<RecordingSubscriber>(1, 0, pool);
  EXPECT_TRUE(trie.insert("a.b", s, ""));
  EXPECT_FALSE(trie.insert("a.b", s, ""));
  EXPECT_TRUE(trie.insert("a.b", s, "q"));
  EXPECT_EQ(trie.size(), 2u);
}

TEST(SubjectTrie, RemovePrunesAndOnlyRemovesTheRightEntry) {
  FakeWorkers pool(1);
  SubjectTrie trie;
  auto s1 = std::make_shared<RecordingSubscriber>(1, 0, pool);
  auto s2 = std::make_shared<RecordingSubscriber>(2, 0, pool);
  ASSERT_TRUE(trie.insert("a.*.c", s1, ""));
  ASSERT_TRUE(trie.insert("a.*.c", s2, ""));
  EXPECT_FALSE(trie.remove("a.*.c", *s1, "q"));
  EXPECT_FALSE(trie.remove("a.*", *s1, ""));
  EXPECT_FALSE(trie.remove("zz.top", *s1, ""));
  EXPECT_TRUE(trie.remove("a.*.c", *s1, ""));
  EXPECT_EQ(ids_matching(trie, "a.b.c"), (std::vector<OriginId>{2}));
  EXPECT_TRUE(trie.remove("a.*.c", *s2, ""));
  EXPECT_EQ(trie.size(), 0u);
  EXPECT_TRUE(ids_matching(trie, "a.b.c").empty());
  // The pruned path can be used again.
  EXPECT_TRUE(trie.insert("a.*.c", s1, ""));
  EXPECT_EQ(ids_matching(trie, "a.x.c"), (std::vector<OriginId>{1}));
}

}  // namespace
}  // namespace psycho

namespace psycho {
namespace {

// 200,000 subscribers on one subject: with a linear search per SUB and UNSUB this would be
// 2·10¹⁰ comparisons (tens of seconds). The node is indexed instead, which the test checks
// directly rather than by a clock that a loaded machine would make flaky.
TEST(SubjectTrie, ASubjectWithManySubscribersStaysCheapToChange) {
  constexpr int kSubscribers = 200'000;
  FakeWorkers pool(1);
  std::vector<std::shared_ptr<RecordingSubscriber>> subs;
  for (int i = 0; i < kSubscribers; ++i) {
    subs.push_back(std::make_shared<RecordingSubscriber>(static_cast<OriginId>(i + 1), 0, pool));
  }
  SubjectTrie trie;
  for (const auto& s : subs) ASSERT_TRUE(trie.insert("crowd", s, ""));
  EXPECT_TRUE(trie.indexed("crowd"));
  EXPECT_FALSE(trie.insert("crowd", subs[kSubscribers / 2], ""));
  for (int i = 0; i < kSubscribers; i += 2) {
    ASSERT_TRUE(trie.remove("crowd", *subs[static_cast<std::size_t>(i)], ""));
  }
  EXPECT_FALSE(trie.remove("crowd", *subs[0], ""));
  std::size_t matched = 0;
  trie.match("crowd", [&](const SubscriptionEntry& e) {
    EXPECT_EQ(e.subscriber->id() % 2, 0u);  // ids are i + 1: the odd i stayed
    ++matched;
  });
  EXPECT_EQ(matched, static_cast<std::size_t>(kSubscribers / 2));
  EXPECT_TRUE(trie.indexed("crowd"));
}

TEST(SubjectTrie, AFewSubscribersNeedNoIndex) {
  FakeWorkers pool(1);
  std::vector<std::shared_ptr<RecordingSubscriber>> subs;
  for (int i = 0; i < 40; ++i) {
    subs.push_back(std::make_shared<RecordingSubscriber>(static_cast<OriginId>(i + 1), 0, pool));
  }
  SubjectTrie trie;
  for (std::size_t i = 0; i < 3; ++i) trie.insert("few", subs[i], "");
  EXPECT_FALSE(trie.indexed("few"));
  for (std::size_t i = 3; i < subs.size(); ++i) trie.insert("few", subs[i], "");
  EXPECT_TRUE(trie.indexed("few"));
  for (const auto& s : subs) trie.remove("few", *s, "");
  EXPECT_FALSE(trie.indexed("few"));
  EXPECT_FALSE(trie.indexed("never.subscribed"));
}

}  // namespace
}  // namespace psycho

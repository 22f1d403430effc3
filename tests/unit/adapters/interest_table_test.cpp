#include "adapters/interest_table.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace psycho {
namespace {

SubjectFilter parse(const std::string& yaml) {
  config::Section s(YAML::Load(yaml), "", "nats");
  return SubjectFilter::parse(s);
}

std::vector<std::string> subscribed(const InterestTable::Changes& c) {
  std::vector<std::string> out;
  for (const auto& [id, pattern] : c.subscribe) out.push_back(pattern);
  return out;
}

TEST(InterestTable, StaticImportsAreHeldFromTheStart) {
  const SubjectFilter f = parse("{subjects: [a.>], import: [prices.>]}");
  InterestTable t(std::make_shared<SubjectFilter>(f));
  EXPECT_EQ(subscribed(t.start()), (std::vector<std::string>{"prices.>"}));
  EXPECT_EQ(t.size(), 1u);
}

TEST(InterestTable, OneSubscriptionPerFabricPatternWithAReferenceCount) {
  const SubjectFilter f = parse("{subjects: ['*.x', 'a.*']}");
  InterestTable t(std::make_shared<SubjectFilter>(f));
  t.start();
  // `a.x` overlaps both list entries, but both overlaps are `a.x` itself.
  const auto first = t.change("a.x", true);
  EXPECT_EQ(subscribed(first), (std::vector<std::string>{"a.x"}));
  const auto second = t.change(">", true);
  EXPECT_EQ(subscribed(second), (std::vector<std::string>{"*.x", "a.*"}));
  EXPECT_TRUE(t.change("a.x", false).unsubscribe.size() == 1);  // a.x only served a.x
  EXPECT_TRUE(t.change("nothing.here", false).empty());         // never added
  EXPECT_TRUE(t.change(">", true).empty());                     // reported once
  const auto last = t.change(">", false);
  EXPECT_EQ(last.unsubscribe.size(), 2u);
  EXPECT_EQ(t.size(), 0u);
}

TEST(InterestTable, OverlappingSubscriptionsKeepExactlyOneCopy) {
  const SubjectFilter f;
  InterestTable t(std::make_shared<SubjectFilter>(f));
  t.start();
  const auto wide = t.change("a.*", true).subscribe.at(0).first;
  const auto other = t.change("*.b", true).subscribe.at(0).first;
  const auto unrelated = t.change("c.d", true).subscribe.at(0).first;
  // a.b arrives through both: the older subscription's copy is the one kept.
  EXPECT_TRUE(t.owns(wide, "a.b"));
  EXPECT_FALSE(t.owns(other, "a.b"));
  // z.b matches only the newer one: it is kept.
  EXPECT_TRUE(t.owns(other, "z.b"));
  EXPECT_TRUE(t.owns(unrelated, "c.d"));
  EXPECT_TRUE(t.covers("a.q"));
  EXPECT_FALSE(t.covers("q.q"));
  // Once the older one is gone, the newer one owns a.b (and with no overlap left, any copy is
  // the only copy).
  t.change("a.*", false);
  EXPECT_TRUE(t.owns(other, "a.b"));
}

TEST(InterestTable, RefilteringKeepsWhatIsStillNeededAndSubscribesNewBeforeDropping) {
  InterestTable t(std::make_shared<SubjectFilter>(parse("{subjects: [a.>, b.>]}")));
  t.start();
  t.change(">", true);  // -> a.>, b.>
  ASSERT_EQ(t.size(), 2u);
  const auto c = t.refilter(std::make_shared<SubjectFilter>(parse("{subjects: [b.>, c.>]}")));
  EXPECT_EQ(subscribed(c), (std::vector<std::string>{"c.>"}));  // b.> stays subscribed
  EXPECT_EQ(c.unsubscribe.size(), 1u);                          // a.> goes
  EXPECT_EQ(t.patterns(), (std::vector<std::string>{"b.>", "c.>"}));
  EXPECT_EQ(t.change(">", false).unsubscribe.size(), 2u);  // the local pattern kept its mapping
}

}  // namespace
}  // namespace psycho

#include "adapters/subject_filter.hpp"

#include <gtest/gtest.h>

namespace psycho {
namespace {

SubjectFilter parse(const std::string& yaml, std::string* error = nullptr) {
  config::Section s(YAML::Load(yaml), "test.yaml", "nats");
  SubjectFilter f = SubjectFilter::parse(s);
  auto st = s.finish();
  if (error != nullptr) *error = st ? "" : st.error();
  return f;
}

std::string fabric(const SubjectFilter& f, std::string_view local) {
  std::string out;
  f.to_fabric(local, out);
  return out;
}

TEST(SubjectFilter, DefaultCarriesEverythingBothWaysUnrenamed) {
  const SubjectFilter f;
  EXPECT_TRUE(f.exports("a.b"));
  EXPECT_TRUE(f.imports("a.b"));
  EXPECT_EQ(fabric(f, "a.b"), "a.b");
  EXPECT_EQ(f.to_local("a.b"), "a.b");
  EXPECT_EQ(f.fabric_patterns_for("a.*"), (std::vector<std::string>{"a.*"}));
  EXPECT_TRUE(f.static_fabric_patterns().empty());
}

TEST(SubjectFilter, ListsChooseTheDirection) {
  const SubjectFilter f = parse("{subjects: [orders.>], import: [prices.>], export: [audit.*]}");
  EXPECT_TRUE(f.exports("orders.new"));
  EXPECT_TRUE(f.imports("orders.new"));
  EXPECT_FALSE(f.exports("prices.eur"));
  EXPECT_TRUE(f.imports("prices.eur"));
  EXPECT_TRUE(f.exports("audit.log"));
  EXPECT_FALSE(f.imports("audit.log"));
  EXPECT_FALSE(f.exports("other"));
  EXPECT_FALSE(f.imports("other"));
  EXPECT_EQ(f.static_fabric_patterns(), (std::vector<std::string>{"prices.>"}));
}

TEST(SubjectFilter, InterestMapsToItsOverlapWithTheBothWaysList) {
  const SubjectFilter f = parse("{subjects: [orders.>, '*.events', a.b], import: [prices.>]}");
  // A wide local subscription asks only for what may come in, once per overlap.
  EXPECT_EQ(f.fabric_patterns_for(">"), (std::vector<std::string>{"orders.>", "*.events", "a.b"}));
  EXPECT_EQ(f.fabric_patterns_for("orders.*"), (std::vector<std::string>{"orders.*"}));
  // orders.events lies in both `orders.>` and `*.events`: subscribed once.
  EXPECT_EQ(f.fabric_patterns_for("orders.events"), (std::vector<std::string>{"orders.events"}));
  // The static import already brings prices in; nothing else is importable here.
  EXPECT_TRUE(f.fabric_patterns_for("prices.eur").empty());
  EXPECT_TRUE(f.fabric_patterns_for("other.thing").empty());
}

TEST(SubjectFilter, PrefixesRenameEachDirectionButNotInboxes) {
  const SubjectFilter f = parse("{export_prefix: edge1, import_prefix: hub}");
  EXPECT_EQ(fabric(f, "app.x"), "edge1.app.x");
  EXPECT_EQ(f.to_local("hub.app.x"), "app.x");
  EXPECT_EQ(f.to_local("app.x"), std::nullopt);
  EXPECT_EQ(f.to_local("hub"), std::nullopt);
  EXPECT_EQ(f.fabric_patterns_for("app.>"), (std::vector<std::string>{"hub.app.>"}));
  EXPECT_EQ(f.import_name("app.x"), "hub.app.x");
  // Reply inboxes keep their names both ways, so an answer finds its way back.
  EXPECT_EQ(fabric(f, "_INBOX.abc"), "_INBOX.abc");
  EXPECT_EQ(f.to_local("_INBOX.abc"), "_INBOX.abc");
  EXPECT_EQ(f.fabric_patterns_for("_INBOX.abc.*"), (std::vector<std::string>{"_INBOX.abc.*"}));
}

TEST(SubjectFilter, BadPatternsAndPrefixesAreNamed) {
  std::string error;
  parse("{subjects: ['a..b']}", &error);
  EXPECT_NE(error.find("test.yaml:1:"), std::string::npos) << error;
  EXPECT_NE(error.find("invalid subject pattern 'a..b'"), std::string::npos) << error;
  parse("{export_prefix: 'a.*'}", &error);
  EXPECT_NE(error.find("'nats.export_prefix' must be a literal subject"), std::string::npos)
      << error;
}

TEST(SubjectFilter, QueueGroupsSubscribeWhatIsImportedAndAreRenamedLikeTheirPatterns) {
  const SubjectFilter f =
      parse("{subjects: [orders.>], import: [prices.>], export: [audit.*], import_prefix: hub}");
  // The static import subscription is plain: a group on it needs a queue subscription too.
  EXPECT_EQ(f.queue_patterns_for(">"), (std::vector<std::string>{"hub.orders.>", "hub.prices.>"}));
  EXPECT_EQ(f.queue_patterns_for("prices.eur"), (std::vector<std::string>{"hub.prices.eur"}));
  EXPECT_TRUE(f.queue_patterns_for("audit.log").empty());  // export only: never comes back
  EXPECT_EQ(f.fabric_queue("orders.*", "workers"), "hub.workers");
  EXPECT_EQ(f.fabric_queue("_INBOX.x", "workers"), "workers");  // unprefixed, as the inbox is
  EXPECT_EQ(SubjectFilter().fabric_queue("a", "workers"), "workers");
}

}  // namespace
}  // namespace psycho

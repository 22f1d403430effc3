#include "auth/permissions.hpp"

#include <gtest/gtest.h>

namespace psycho::auth {
namespace {

TEST(Permissions, DefaultAllowsEverythingWithoutFiltering) {
  const Permissions p;
  EXPECT_TRUE(p.may_publish("a.b"));
  EXPECT_TRUE(p.may_subscribe(">"));
  EXPECT_TRUE(p.may_receive("x"));
  EXPECT_FALSE(p.filters_delivery());
  EXPECT_FALSE(p.restricted());
}

TEST(Permissions, PublishTable) {
  const Permissions p({{"orders.>"}, {"orders.admin.>"}}, {}, false);
  struct Case {
    const char* subject;
    bool allowed;
  };
  for (const Case c :
       {Case{"orders.new", true}, Case{"orders.eu.new", true}, Case{"orders.admin.drop", false},
        Case{"orders", false}, Case{"payments.x", false}}) {
    EXPECT_EQ(p.may_publish(c.subject), c.allowed) << c.subject;
  }
}

TEST(Permissions, SubscribeTableWithWildcards) {
  const Permissions p({}, {{"orders.>", "_INBOX.>"}, {"orders.admin.>"}}, false);
  struct Case {
    const char* pattern;
    bool allowed;
  };
  for (const Case c : {Case{"orders.*", true}, Case{"orders.>", true}, Case{"_INBOX.abc", true},
                       Case{"orders.admin.>", false},                    // wholly denied
                       Case{"orders.admin.x", false}, Case{">", false},  // wider than allowed
                       Case{"*.new", false}, Case{"payments.x", false}}) {
    EXPECT_EQ(p.may_subscribe(c.pattern), c.allowed) << c.pattern;
  }
  // `orders.>` is allowed, but what it matches under the deny is not delivered.
  EXPECT_TRUE(p.filters_delivery());
  EXPECT_TRUE(p.may_receive("orders.new"));
  EXPECT_FALSE(p.may_receive("orders.admin.drop"));
  EXPECT_FALSE(p.may_receive("payments.x"));
}

}  // namespace
}  // namespace psycho::auth

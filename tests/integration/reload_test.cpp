// Configuration reload (SIGHUP, or the file changing) with clients connected.
#include <signal.h>

#include <gtest/gtest.h>

#include <fstream>

#include "auth/bcrypt.hpp"
#include "support/gateway.hpp"

namespace psycho::testing {
namespace {

using namespace std::chrono_literals;

std::string users(const std::string& alice_may_publish, const std::string& hash) {
  return "gateway:\n  auth:\n    token: admin\n    users:\n      - user: alice\n"
         "        password: '" +
         hash +
         "'\n"
         "        permissions: {publish: {allow: ['" +
         alice_may_publish + "']}}\n";
}

void rewrite(const Gateway& gw, const std::string& yaml) {
  // Write a new file and rename it over the old one, as editors and ConfigMaps do.
  const std::string tmp = gw.config_path() + ".new";
  std::ofstream(tmp) << yaml;
  ASSERT_EQ(std::rename(tmp.c_str(), gw.config_path().c_str()), 0);
}

bool logged(Gateway& gw, const std::string& text, std::chrono::milliseconds timeout = 5s) {
  return eventually([&] { return gw.process().errors().find(text) != std::string::npos; }, timeout);
}

std::unique_ptr<RawClient> login(Gateway& gw, const std::string& connect_json) {
  auto c = gw.client();
  c->send("CONNECT " + connect_json + "\nPING\n");
  EXPECT_EQ(c->line(), "PONG\n");
  return c;
}

TEST(Reload, SighupChangesPermissionsAndDropsNobody) {
  const std::string hash = *auth::bcrypt_hash("pw", 4);
  Gateway gw(with_config(users("a.>", hash)));
  auto alice = login(gw, R"({"verbose":false,"user":"alice","pass":"pw"})");
  auto admin = login(gw, R"({"verbose":false,"auth_token":"admin"})");
  alice->send("PUB b.x 1\nx\nPING\n");
  ASSERT_EQ(alice->expect("PONG\n"), "-ERR 'Permissions Violation for Publish to \"b.x\"'\nPONG\n");

  rewrite(gw, users("b.>", hash));
  gw.process().signal(SIGHUP);
  ASSERT_TRUE(logged(gw, "configuration reloaded changed=gateway.auth"));
  alice->send("PUB b.x 1\nx\nPUB a.x 1\nx\nPING\n");
  EXPECT_EQ(alice->expect("PONG\n"), "-ERR 'Permissions Violation for Publish to \"a.x\"'\nPONG\n");
  admin->send("PING\n");
  EXPECT_EQ(admin->line(), "PONG\n");  // nobody was dropped
}

TEST(Reload, ChangesThatNeedARestartAreRefusedAndTheRunningConfigStays) {
  Gateway gw(with_config("gateway:\n  max_subscriptions: 1\n"));
  auto c = login(gw, R"({"verbose":false})");
  rewrite(gw, "gateway:\n  max_subscriptions: 5\n  max_payload: 2MiB\n");
  gw.process().signal(SIGHUP);
  ASSERT_TRUE(logged(gw, "need a restart"));
  EXPECT_NE(gw.process().errors().find("gateway.max_payload"), std::string::npos);
  c->send("SUB a\nSUB b\nPING\n");  // still the old limit
  EXPECT_EQ(c->expect("PONG\n"), "-ERR 'Maximum Subscriptions Exceeded'\nPONG\n");
  rewrite(gw, "gateway:\n  max_subscriptions: [not a number\n");
  gw.process().signal(SIGHUP);
  EXPECT_TRUE(logged(gw, "it has errors; the running one stays"));
  EXPECT_TRUE(gw.process().running());
}

TEST(Reload, AChangedFileIsNoticedWithoutASignal) {
  Gateway gw(with_config("gateway:\n  max_subscriptions: 1\n"));
  auto c = login(gw, R"({"verbose":false})");
  rewrite(gw, "gateway:\n  max_subscriptions: 3\nlog:\n  level: debug\n");
  ASSERT_TRUE(logged(gw, "configuration file changed", 10s));
  ASSERT_TRUE(logged(gw, "configuration reloaded changed=\"gateway.max_subscriptions, log\""));
  c->send("SUB a\nSUB b\nSUB c\nSUB d\nPING\n");  // the new limit, on a connection made before
  EXPECT_EQ(c->expect("PONG\n"), "-ERR 'Maximum Subscriptions Exceeded'\nPONG\n");
}

}  // namespace
}  // namespace psycho::testing

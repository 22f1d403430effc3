// Configuration reload (SIGHUP, or the file changing) with clients connected.
#include <signal.h>

#include <gtest/gtest.h>

#include <fstream>

#include "auth/bcrypt.hpp"
#include "support/gateway.hpp"
#include "support/nats.hpp"

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

TEST(Reload, NatsSubjectListsChangeLive) {
  NatsServer server;
  auto nats_config = [&](const std::string& subjects) {
    return "nats:\n  servers: " + server.url() + "\n  subjects: [" + subjects + "]\n";
  };
  Gateway gw(with_config(nats_config("a.>")));
  ASSERT_TRUE(eventually([&] { return gw.http_get("/readyz").rfind("HTTP/1.1 200", 0) == 0; }));
  NatsClient nats(server.url());
  nats.subscribe("b.out");
  auto c = login(gw, R"({"verbose":false})");
  c->send("SUB >\nPING\n");
  ASSERT_EQ(c->line(), "PONG\n");
  ASSERT_TRUE(
      eventually([&] { return gw.http_get("/varz").find("\"a.>\"") != std::string::npos; }));

  rewrite(gw, nats_config("b.>"));
  gw.process().signal(SIGHUP);
  ASSERT_TRUE(logged(gw, "nats: subject lists reloaded"));
  // Imports follow: the upstream subscription moved from a.> to b.>, for the same client.
  ASSERT_TRUE(eventually([&] {
    nats.publish("b.probe", "probe");
    return c->expect("probe\n", 50ms) != "";
  }));
  EXPECT_EQ(gw.http_get("/varz").find("\"a.>\""), std::string::npos);
  // Exports follow too (the router's cached routes were dropped).
  c->send("PUB b.out 3\nnew\nPING\n");
  auto m = nats.next();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload, "new");
  // A change the adapter cannot make live is refused with its reason.
  rewrite(gw, nats_config("b.>") + "  bus: elsewhere\n");
  gw.process().signal(SIGHUP);
  EXPECT_TRUE(logged(gw, "these need a restart: bus"));
}

}  // namespace
}  // namespace psycho::testing

// Wire-level tests of the Psycho protocol against the real gateway process.
#include <gtest/gtest.h>

#include "support/gateway.hpp"

namespace psycho::testing {
namespace {

class ProtocolTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { gateway_ = new Gateway(); }
  static void TearDownTestSuite() {
    delete gateway_;
    gateway_ = nullptr;
  }
  static Gateway& gw() { return *gateway_; }

  // Subscribes and waits for the +OK, so the subscription is in place.
  static void subscribe(RawClient& c, const std::string& args) {
    c.send("SUB " + args + "\n");
    ASSERT_EQ(c.line(), "+OK\n");
  }

  static Gateway* gateway_;
};
Gateway* ProtocolTest::gateway_ = nullptr;

TEST_F(ProtocolTest, InfoComesFirstWithTheAdvertisedFields) {
  RawClient c(gw().port());
  const std::string info = c.line();
  ASSERT_EQ(info.rfind("INFO {", 0), 0u) << info;
  for (const char* field :
       {"\"server_id\"", "\"server_name\"", "\"version\"", "\"proto\"", "\"max_payload\":1048576",
        "\"headers\":true", "\"auth_required\":false", "\"type\":\"gateway\""}) {
    EXPECT_NE(info.find(field), std::string::npos) << field << " in " << info;
  }
}

TEST_F(ProtocolTest, SeedClientsPublishAndReceiveWithOkAfterEveryOp) {
  auto sub = gw().client();
  auto pub = gw().client();
  subscribe(*sub, "greet.world");
  pub->send("PUB greet.world 5\nhello\n");
  EXPECT_EQ(pub->line(), "+OK\n");
  EXPECT_EQ(sub->expect("hello\n"), "MSG greet.world 5\nhello\n");
}

TEST_F(ProtocolTest, PublisherDoesNotReceiveItsOwnMessagesUnlessItAsksForEcho) {
  auto c = gw().client();
  subscribe(*c, "echo.test");
  c->send("PUB echo.test 2\nhi\nPING\n");
  EXPECT_EQ(c->expect("PONG\n"), "+OK\nPONG\n");
  c->send("CONNECT {\"echo\":true}\nPUB echo.test 2\nhi\n");
  EXPECT_EQ(c->expect("hi\n"), "+OK\n+OK\nMSG echo.test 2\nhi\n");
}

TEST_F(ProtocolTest, AcceptsCrlfTabsAndAnyCaseOfOpNames) {
  auto sub = gw().client();
  auto pub = gw().client();
  sub->send("sub\tcase.test\r\n");
  ASSERT_EQ(sub->line(), "+OK\n");
  pub->send("pUb  case.test \t 3\r\nabc\r\n");
  EXPECT_EQ(pub->line(), "+OK\n");
  EXPECT_EQ(sub->expect("abc\n"), "MSG case.test 3\nabc\n");
}

TEST_F(ProtocolTest, WildcardsMatchAndOverlappingSubscriptionsDeliverOnce) {
  auto sub = gw().client();
  auto pub = gw().client();
  subscribe(*sub, "wild.*.x");
  subscribe(*sub, "wild.>");
  subscribe(*sub, "wild.a.x");
  subscribe(*sub, "wild.a.x");  // already held: a no-op that still answers +OK
  pub->send("PUB wild.a.x 1\n1\nPUB wild.b.c.d 1\n2\nPUB other 1\n3\n");
  EXPECT_EQ(sub->expect("2\n"), "MSG wild.a.x 1\n1\nMSG wild.b.c.d 1\n2\n");
  sub->send("PING\n");
  EXPECT_EQ(sub->expect("PONG\n"), "PONG\n");  // nothing else arrived in between
}

TEST_F(ProtocolTest, ReplySubjectsTravelWithTheMessage) {
  auto sub = gw().client();
  auto pub = gw().client();
  subscribe(*sub, "svc.time");
  pub->send("PUB svc.time my.inbox.1 4\nwhat\n");
  EXPECT_EQ(sub->expect("what\n"), "MSG svc.time my.inbox.1 4\nwhat\n");
}

// A request nobody can answer: a client that asked for headers and no_responders hears so at
// once (as from nats-server), on its inbox; one that did not hears nothing, and one that does
// not listen on the reply subject gets nothing either.
TEST_F(ProtocolTest, ARequestWithNoResponderGetsA503StatusAtOnce) {
  auto c = gw().client();
  c->send(
      "CONNECT {\"verbose\":false,\"headers\":true,\"no_responders\":true}\n"
      "SUB _INBOX.r1.* \nPUB nobody.home _INBOX.r1.1 2\nhi\nPING\n");
  EXPECT_EQ(c->line(), "HMSG _INBOX.r1.1 16 16\n");
  EXPECT_EQ(c->line(), "NATS/1.0 503\r\n");
  EXPECT_EQ(c->line(), "\r\n");
  EXPECT_EQ(c->line(), "\n");
  EXPECT_EQ(c->line(), "PONG\n");
  // Someone listens: no status, the request reaches it.
  auto responder = gw().client();
  subscribe(*responder, "somebody.home");
  c->send("PUB somebody.home _INBOX.r1.2 2\nhi\nPUB nobody.home other.inbox 2\nhi\nPING\n");
  EXPECT_EQ(c->line(), "PONG\n");  // no status for either
  EXPECT_FALSE(responder->expect("hi\n").empty());
  // Without no_responders, nothing comes back: the request times out at the client.
  auto plain = gw().client();
  plain->send(
      "CONNECT {\"verbose\":false,\"headers\":true}\nSUB _INBOX.r2.*\n"
      "PUB nobody.home _INBOX.r2.1 2\nhi\nPING\n");
  EXPECT_EQ(plain->line(), "PONG\n");
}

TEST_F(ProtocolTest, HeadersReachHeaderClientsAndAreStrippedForSeedClients) {
  auto modern = gw().client();
  auto seed = gw().client();
  auto pub = gw().client();
  modern->send("CONNECT {\"headers\":true,\"verbose\":false}\nSUB hdr.test\nPING\n");
  ASSERT_EQ(modern->line(), "PONG\n");
  subscribe(*seed, "hdr.test");
  const std::string headers = "NATS/1.0\r\nTrace: abc\r\n\r\n";
  pub->send("HPUB hdr.test " + std::to_string(headers.size()) + " " +
            std::to_string(headers.size() + 5) + "\n" + headers + "hello\n");
  EXPECT_EQ(modern->expect("hello\n"), "HMSG hdr.test " + std::to_string(headers.size()) + " " +
                                           std::to_string(headers.size() + 5) + "\n" + headers +
                                           "hello\n");
  EXPECT_EQ(seed->expect("hello\n"), "MSG hdr.test 5\nhello\n");
}

// Psycho-* headers are the gateways' (a message's identity between them): a client that
// sends one does not show it to anyone, on this gateway or beyond. The rest of its block is
// kept byte for byte, and a block left with no header is still a block.
TEST_F(ProtocolTest, AClientsPsychoHeadersAreNeverShownToOthers) {
  auto sub = gw().client();
  auto pub = gw().client();
  sub->send("CONNECT {\"headers\":true,\"verbose\":false}\nSUB hdr.>\nPING\n");
  ASSERT_EQ(sub->line(), "PONG\n");
  const auto hpub = [&](std::string_view subject, const std::string& headers) {
    pub->send("HPUB " + std::string(subject) + " " + std::to_string(headers.size()) + " " +
              std::to_string(headers.size() + 2) + "\n" + headers + "hi\n");
  };
  hpub("hdr.mixed",
       "NATS/1.0\r\nk: 1\r\npsycho-trace: 0000000000000001-1-1\r\nK: 2\r\nPsycho-Mine: x\r\n\r\n");
  const std::string kept = "NATS/1.0\r\nk: 1\r\nK: 2\r\n\r\n";
  EXPECT_EQ(sub->expect("hi\n"), "HMSG hdr.mixed " + std::to_string(kept.size()) + " " +
                                     std::to_string(kept.size() + 2) + "\n" + kept + "hi\n");
  hpub("hdr.only", "NATS/1.0\r\nPsycho-Trace: 0000000000000001-2-1\r\n\r\n");
  const std::string empty = "NATS/1.0\r\n\r\n";
  EXPECT_EQ(sub->expect("hi\n"), "HMSG hdr.only " + std::to_string(empty.size()) + " " +
                                     std::to_string(empty.size() + 2) + "\n" + empty + "hi\n");
}

// Header readers stop at the first blank line: a block that goes on after one, or never
// ends, could carry what no reader sees (a Psycho-* header past the stripping). Refused.
TEST_F(ProtocolTest, AHeaderBlockMustEndAtItsFirstBlankLine) {
  for (const std::string headers :
       {"NATS/1.0\r\nA: 1\r\n\r\nPsycho-Trace: 0000000000000001-1-1\r\n\r\n",
        "NATS/1.0\r\nA: 1\r\n"}) {
    auto pub = gw().client();
    pub->send("CONNECT {\"verbose\":false}\nHPUB hdr.bad " + std::to_string(headers.size()) + " " +
              std::to_string(headers.size() + 2) + "\n" + headers + "hi\n");
    EXPECT_EQ(pub->line(), "-ERR 'Invalid Protocol Arguments'\n") << headers;
  }
}

TEST_F(ProtocolTest, QueueGroupMembersShareTheMessages) {
  auto a = gw().client();
  auto b = gw().client();
  auto pub = gw().client();
  subscribe(*a, "work.item workers");
  subscribe(*b, "work.item workers");
  std::string batch;
  for (int i = 0; i < 100; ++i) batch += "PUB work.item 1\nx\n";
  pub->send("CONNECT {\"verbose\":false}\n" + batch + "PING\n");
  ASSERT_EQ(pub->expect("PONG\n"), "PONG\n");
  auto count = [](const std::string& s) {
    std::size_t n = 0;
    for (std::size_t p = s.find("MSG "); p != std::string::npos; p = s.find("MSG ", p + 1)) ++n;
    return n;
  };
  // Members may sit on other workers than the publisher: their share arrives a moment
  // after the publisher's PONG, so wait for all of it rather than for a PING round trip.
  EXPECT_TRUE(eventually([&] {
    a->drain_for(std::chrono::milliseconds(5));
    b->drain_for(std::chrono::milliseconds(5));
    return count(a->pending()) + count(b->pending()) >= 100;
  }));
  const std::string got_a = a->pending(), got_b = b->pending();
  b->drain_for(std::chrono::milliseconds(50));  // and no more than that
  a->drain_for(std::chrono::milliseconds(50));
  EXPECT_EQ(count(a->pending()) + count(b->pending()), 100u);
  EXPECT_GT(count(got_a), 0u);
  EXPECT_GT(count(got_b), 0u);
}

TEST_F(ProtocolTest, UnsubscribeStopsDelivery) {
  auto sub = gw().client();
  auto pub = gw().client();
  subscribe(*sub, "unsub.test");
  sub->send("UNSUB unsub.test\n");
  ASSERT_EQ(sub->line(), "+OK\n");
  pub->send("PUB unsub.test 1\nx\nPING\n");
  ASSERT_EQ(pub->expect("PONG\n"), "+OK\nPONG\n");
  sub->send("PING\n");
  EXPECT_EQ(sub->expect("PONG\n"), "PONG\n");
}

TEST_F(ProtocolTest, VerboseFalseSilencesOk) {
  auto c = gw().client();
  c->send("CONNECT {\"verbose\":false}\nSUB quiet\nPUB quiet 1\nx\nPING\n");
  EXPECT_EQ(c->expect("PONG\n"), "PONG\n");
}

// ---------------------------------------------------------------- errors that keep the client

TEST_F(ProtocolTest, InvalidSubjectIsReportedAndTheConnectionStays) {
  auto c = gw().client();
  c->send("SUB bad..subject\n");
  EXPECT_EQ(c->line(), "-ERR 'Invalid Subject'\n");
  c->send("SUB a.>.b\n");
  EXPECT_EQ(c->line(), "-ERR 'Invalid Subject'\n");
  c->send("PING\n");
  EXPECT_EQ(c->line(), "PONG\n");
}

TEST_F(ProtocolTest, WildcardPublishIsRefusedAndDeliveredNowhere) {
  auto sub = gw().client();
  auto pub = gw().client();
  subscribe(*sub, ">");
  pub->send("PUB orders.* 1\nx\n");
  EXPECT_EQ(pub->line(), "-ERR 'Invalid Publish Subject'\n");
  pub->send("PUB orders.> 1\nx\nPING\n");
  EXPECT_EQ(pub->expect("PONG\n"), "-ERR 'Invalid Publish Subject'\nPONG\n");
  sub->send("PING\n");
  EXPECT_EQ(sub->expect("PONG\n"), "PONG\n");  // nothing was delivered
}

// ---------------------------------------------------------------- errors that close

struct ClosingCase {
  const char* name;
  std::string input;
  std::string error;
};

class ClosingErrorTest : public ProtocolTest, public ::testing::WithParamInterface<ClosingCase> {};

TEST_P(ClosingErrorTest, SendsTheErrorAndCloses) {
  auto c = gw().client();
  c->send(GetParam().input);
  EXPECT_EQ(c->expect("\n"), "-ERR '" + GetParam().error + "'\n");
  EXPECT_TRUE(c->closed_by_peer());
  // The gateway is still there for everybody else.
  auto other = gw().client();
  other->send("PING\n");
  EXPECT_EQ(other->line(), "PONG\n");
}

INSTANTIATE_TEST_SUITE_P(
    Wire, ClosingErrorTest,
    ::testing::Values(
        ClosingCase{"UnknownOp", "FOO bar\n", "Unknown Protocol Operation"},
        ClosingCase{"ServerOpFromClient", "MSG a 1\nx\n", "Unknown Protocol Operation"},
        ClosingCase{"ControlLineTooLong", "SUB " + std::string(5000, 'a') + "\n",
                    "Maximum Control Line Exceeded"},
        ClosingCase{"ControlLineTooLongWithoutNewline", std::string(5000, 'x'),
                    "Maximum Control Line Exceeded"},
        ClosingCase{"PayloadTooLarge", "PUB big 2000000\n", "Maximum Payload Violation"},
        ClosingCase{"PayloadWithoutLineEnd", "PUB a 3\nabcdef\n",
                    "Payload Not Followed By Line End"},
        ClosingCase{"BadSize", "PUB a x\n", "Invalid Protocol Arguments"},
        ClosingCase{"BadConnectJson", "CONNECT {nope\n", "Invalid Protocol Arguments"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace psycho::testing

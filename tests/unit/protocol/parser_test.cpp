// What the parser accepts, each stream ground at every split point (see grind.hpp).
#include "protocol/parser.hpp"

#include <gtest/gtest.h>

#include "grind.hpp"

namespace psycho::protocol {
namespace {

using testing::ground;
using testing::Outcome;
using testing::OwnedOp;
using testing::ParserSetup;

const ParserSetup kServer{{}, Role::server, Dialect::psycho};
const ParserSetup kClient{{}, Role::client, Dialect::psycho};
const ParserSetup kNatsClient{{}, Role::client, Dialect::nats};
const ParserSetup kNatsServer{{}, Role::server, Dialect::nats};

OwnedOp op(OpKind kind) { return OwnedOp{kind, "", "", "", "", "", "", ""}; }
OwnedOp text(OpKind kind, std::string args) {
  OwnedOp o = op(kind);
  o.args = std::move(args);
  return o;
}
OwnedOp body(OpKind kind, std::string subject, std::string reply, std::string headers,
             std::string payload, std::string sid = "") {
  OwnedOp o = op(kind);
  o.subject = std::move(subject);
  o.reply = std::move(reply);
  o.headers = std::move(headers);
  o.payload = std::move(payload);
  o.sid = std::move(sid);
  return o;
}
OwnedOp sub(OpKind kind, std::string subject, std::string queue = "", std::string sid = "") {
  OwnedOp o = op(kind);
  o.subject = std::move(subject);
  o.queue = std::move(queue);
  o.sid = std::move(sid);
  return o;
}

const std::string kHeaders = "NATS/1.0\r\nA: b\r\n\r\n";  // 18 bytes

class LineEnds : public ::testing::TestWithParam<std::string> {};
INSTANTIATE_TEST_SUITE_P(Protocol, LineEnds, ::testing::Values("\n", "\r\n"),
                         [](const auto& p) { return p.param == "\n" ? "LF" : "CRLF"; });

TEST_P(LineEnds, EveryClientOp) {
  const std::string& e = GetParam();
  const Outcome out =
      ground("CONNECT {\"verbose\":false}" + e + "SUB a.b" + e + "SUB a.* q1" + e + "UNSUB a.b" +
                 e + "UNSUB a.* q1" + e + "PUB a.b 5" + e + "hello" + e + "PUB a.b reply.to 0" + e +
                 e + "HPUB h.s 18 20" + e + kHeaders + "hi" + e + "HPUB h.s r 18 18" + e +
                 kHeaders + e + "PING" + e + "PONG" + e,
             kServer);
  ASSERT_FALSE(out.error) << out.error.message();
  EXPECT_EQ(out.ops, (std::vector<OwnedOp>{
                         text(OpKind::connect, "{\"verbose\":false}"),
                         sub(OpKind::sub, "a.b"),
                         sub(OpKind::sub, "a.*", "q1"),
                         sub(OpKind::unsub, "a.b"),
                         sub(OpKind::unsub, "a.*", "q1"),
                         body(OpKind::pub, "a.b", "", "", "hello"),
                         body(OpKind::pub, "a.b", "reply.to", "", ""),
                         body(OpKind::hpub, "h.s", "", kHeaders, "hi"),
                         body(OpKind::hpub, "h.s", "r", kHeaders, ""),
                         op(OpKind::ping),
                         op(OpKind::pong),
                     }));
}

TEST_P(LineEnds, EveryServerOpInClientRole) {
  const std::string& e = GetParam();
  const Outcome out = ground(
      "INFO {\"server_id\":\"x\"}" + e + "+OK" + e + "-ERR 'Invalid Subject'" + e + "MSG a.b 3" +
          e + "abc" + e + "MSG a.b inbox.1 0" + e + e + "HMSG h 18 20" + e + kHeaders + "hi" + e +
          "HMSG h r 18 18" + e + kHeaders + e + "PING" + e + "PONG" + e,
      kClient);
  ASSERT_FALSE(out.error) << out.error.message();
  EXPECT_EQ(out.ops, (std::vector<OwnedOp>{
                         text(OpKind::info, "{\"server_id\":\"x\"}"),
                         op(OpKind::ok),
                         text(OpKind::err, "Invalid Subject"),
                         body(OpKind::msg, "a.b", "", "", "abc"),
                         body(OpKind::msg, "a.b", "inbox.1", "", ""),
                         body(OpKind::hmsg, "h", "", kHeaders, "hi"),
                         body(OpKind::hmsg, "h", "r", kHeaders, ""),
                         op(OpKind::ping),
                         op(OpKind::pong),
                     }));
}

// What nats-server sends to a client: CRLF line ends, sids in MSG and HMSG.
TEST(Parser, NatsServerOutputInNatsDialect) {
  const std::string info =
      R"({"server_id":"NC3","server_name":"n 1","version":"2.10.7","proto":1,"headers":true,)"
      R"( "max_payload": 1048576})";
  const Outcome out = ground("INFO " + info + "\r\n+OK\r\nPING\r\nPONG\r\nMSG a.b 7 3\r\nabc\r\n" +
                                 "MSG a.b 8 _INBOX.x 1\r\nz\r\nHMSG a 9 18 19\r\n" + kHeaders +
                                 "q\r\n" + "HMSG a 10 r 18 18\r\n" + kHeaders + "\r\n" +
                                 "-ERR 'Permissions Violation for Publish to \"a.b\"'\r\n",
                             kNatsClient);
  ASSERT_FALSE(out.error) << out.error.message();
  EXPECT_EQ(out.ops, (std::vector<OwnedOp>{
                         text(OpKind::info, info),
                         op(OpKind::ok),
                         op(OpKind::ping),
                         op(OpKind::pong),
                         body(OpKind::msg, "a.b", "", "", "abc", "7"),
                         body(OpKind::msg, "a.b", "_INBOX.x", "", "z", "8"),
                         body(OpKind::hmsg, "a", "", kHeaders, "q", "9"),
                         body(OpKind::hmsg, "a", "r", kHeaders, "", "10"),
                         text(OpKind::err, "Permissions Violation for Publish to \"a.b\""),
                     }));
}

TEST(Parser, NatsDialectSubCarriesASid) {
  const Outcome out = ground("SUB a 1\nSUB a q 2\nUNSUB 2\nPUB a 0\n\n", kNatsServer);
  ASSERT_FALSE(out.error) << out.error.message();
  EXPECT_EQ(out.ops,
            (std::vector<OwnedOp>{sub(OpKind::sub, "a", "", "1"), sub(OpKind::sub, "a", "q", "2"),
                                  sub(OpKind::unsub, "2"), body(OpKind::pub, "a", "", "", "")}));
}

TEST(Parser, CaseTabsBlanksAndEmptyLines) {
  const Outcome out = ground(
      "\r\n\n  \t\n cOnNeCt \t{} \n\tpub\ta.b  \t 3\r\nx\ry\r\n  sUb  q.r \tg \r\n\r\n"
      "uNsUb\tq.r\r\nHpUb h 0 0\n\npInG\r\npong  \n",
      kServer);
  ASSERT_FALSE(out.error) << out.error.message();
  EXPECT_EQ(out.ops, (std::vector<OwnedOp>{
                         text(OpKind::connect, "{}"), body(OpKind::pub, "a.b", "", "", "x\ry"),
                         sub(OpKind::sub, "q.r", "g"), sub(OpKind::unsub, "q.r"),
                         body(OpKind::hpub, "h", "", "", ""), op(OpKind::ping), op(OpKind::pong)}));
  const Outcome client = ground("info {}\n+ok\n-err\t'x'\nmsg a 0\n\nhmsg a 0 0\n\n", kClient);
  ASSERT_FALSE(client.error) << client.error.message();
  EXPECT_EQ(client.ops,
            (std::vector<OwnedOp>{text(OpKind::info, "{}"), op(OpKind::ok), text(OpKind::err, "x"),
                                  body(OpKind::msg, "a", "", "", ""),
                                  body(OpKind::hmsg, "a", "", "", "")}));
}

// CONNECT, INFO and -ERR carry free text: blanks inside it are kept, around it trimmed.
TEST(Parser, FreeTextKeepsItsBlanks) {
  const std::string json = R"({"verbose": false, "pedantic": false, "name": "a b  c", "x": 1})";
  const Outcome out = ground("CONNECT  \t" + json + " \t\r\n", kServer);
  ASSERT_FALSE(out.error) << out.error.message();
  EXPECT_EQ(out.ops, std::vector<OwnedOp>{text(OpKind::connect, json)});
  const Outcome client =
      ground("INFO  " + json + "\n-ERR  'a b c d e f g h'  \n-ERR no quotes here\n-ERR\n-ERR '\n",
             kClient);
  ASSERT_FALSE(client.error) << client.error.message();
  EXPECT_EQ(client.ops,
            (std::vector<OwnedOp>{text(OpKind::info, json), text(OpKind::err, "a b c d e f g h"),
                                  text(OpKind::err, "no quotes here"), text(OpKind::err, ""),
                                  text(OpKind::err, "'")}));
}

TEST(Parser, PayloadsMayHoldAnyBytes) {
  std::string payload = "PUB x 1\r\n\n\r\nMSG y 2\n";
  for (int b = 0; b < 256; ++b) payload.push_back(static_cast<char>(b));
  const std::string crlf_end = "PUB bin " + std::to_string(payload.size()) + "\r\n" + payload;
  const Outcome out =
      ground(crlf_end + "\r\n" + "PUB bin2 2\n\r\n\nPUB e 0\r\n\r\nPING\n", kServer);
  ASSERT_FALSE(out.error) << out.error.message();
  EXPECT_EQ(out.ops, (std::vector<OwnedOp>{
                         body(OpKind::pub, "bin", "", "", payload),
                         body(OpKind::pub, "bin2", "", "", "\r\n"),
                         body(OpKind::pub, "e", "", "", ""),
                         op(OpKind::ping),
                     }));
}

TEST(Parser, ControlLineOfExactlyTheLimitIsAccepted) {
  const Limits limits{32, 100};
  const std::string line = "SUB " + std::string(28, 's');  // 32 bytes
  for (const char* end : {"\n", "\r\n"}) {
    const Outcome out = ground(line + end + line + end, {limits, Role::server, Dialect::psycho});
    ASSERT_FALSE(out.error) << out.error.message();
    EXPECT_EQ(out.ops.size(), 2u);
  }
}

TEST(Parser, MaximumPayloadIsAccepted) {
  const Limits limits{32, 100};
  const std::string payload(100, 'p');
  const Outcome out = ground(
      "PUB a 100\r\n" + payload + "\r\nHPUB a 18 100\n" + kHeaders + payload.substr(18) + "\n",
      {limits, Role::server, Dialect::psycho});
  ASSERT_FALSE(out.error) << out.error.message();
  EXPECT_EQ(out.ops,
            (std::vector<OwnedOp>{body(OpKind::pub, "a", "", "", payload),
                                  body(OpKind::hpub, "a", "", kHeaders, payload.substr(18))}));
}

// Zero copy: an op within one piece is handed out as views into that piece.
TEST(Parser, OpsWithinOnePieceAreViewsIntoIt) {
  struct InPlace : OpHandler {
    std::string_view input;
    int ops = 0;
    bool inside(std::string_view v) const {
      return v.empty() ||
             (v.data() >= input.data() && v.data() + v.size() <= input.data() + input.size());
    }
    bool on_op(const Op& op) override {
      ++ops;
      EXPECT_TRUE(inside(op.subject) && inside(op.reply) && inside(op.payload) &&
                  inside(op.headers) && inside(op.queue) && inside(op.args));
      return true;
    }
  } handler;
  const std::string input =
      "CONNECT {}\nPUB a r 3\nabc\nHPUB b 12 13\nNATS/1.0\r\n\r\nx\nSUB c q\n";
  handler.input = input;
  Parser parser(Limits{});
  EXPECT_FALSE(parser.feed(input, handler));
  EXPECT_EQ(handler.ops, 4);
  EXPECT_EQ(parser.buffered(), 0u);
}

TEST(Parser, HandlerCanStopParsing) {
  Parser parser(Limits{});
  testing::Recorder stop_after_one(1);
  EXPECT_FALSE(parser.feed("PING\nPUB a 1\nx\nPING\n", stop_after_one));
  EXPECT_EQ(stop_after_one.ops.size(), 1u);

  // Also when the op that stops was split and delivered from the scratch buffer.
  Parser split(Limits{});
  testing::Recorder stop_again(1);
  EXPECT_FALSE(split.feed("PUB a 3\nab", stop_again));
  EXPECT_TRUE(stop_again.ops.empty());
  EXPECT_FALSE(split.feed("c\nPING\nPONG\n", stop_again));
  ASSERT_EQ(stop_again.ops.size(), 1u);
  EXPECT_EQ(stop_again.ops[0].payload, "abc");
}

TEST(Parser, ScratchIsEmptyBetweenOps) {
  Parser parser(Limits{});
  testing::Recorder r;
  EXPECT_FALSE(parser.feed("PUB a.b r 5\nhe", r));
  EXPECT_EQ(parser.buffered(), std::string("PUB a.b r 5").size() + 2);
  EXPECT_FALSE(parser.feed("llo\r", r));
  EXPECT_FALSE(parser.feed("\nSUB x", r));
  EXPECT_EQ(parser.buffered(), 5u);
  EXPECT_FALSE(parser.feed(" q\n", r));
  EXPECT_EQ(parser.buffered(), 0u);
  ASSERT_EQ(r.ops.size(), 2u);
  EXPECT_EQ(r.ops[0], body(OpKind::pub, "a.b", "r", "", "hello"));
  EXPECT_EQ(r.ops[1], sub(OpKind::sub, "x", "q"));
}

}  // namespace
}  // namespace psycho::protocol

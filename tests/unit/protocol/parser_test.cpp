#include "protocol/parser.hpp"

#include <gtest/gtest.h>

#include "grind.hpp"

namespace psycho::protocol {
namespace {

using testing::all_splits;
using testing::feed_pieces;
using testing::feed_whole;
using testing::Outcome;
using testing::OwnedOp;
using testing::ParserSetup;

// Asserts that every way of splitting `input` gives the same outcome as feeding it whole,
// and returns that outcome.
Outcome ground(const std::string& input, const ParserSetup& setup = {}) {
  const Outcome whole = feed_whole(input, setup);
  for (const auto& pieces : all_splits(input)) {
    const Outcome split = feed_pieces(pieces, setup);
    EXPECT_EQ(split, whole) << "input split into " << pieces.size() << " pieces, first "
                            << pieces.front().size() << " bytes";
    if (!(split == whole)) break;
  }
  return whole;
}

OwnedOp op(OpKind kind) { return OwnedOp{kind, "", "", "", "", "", "", ""}; }
OwnedOp pub(std::string subject, std::string reply, std::string payload) {
  OwnedOp o = op(OpKind::pub);
  o.subject = std::move(subject);
  o.reply = std::move(reply);
  o.payload = std::move(payload);
  return o;
}
OwnedOp sub(OpKind kind, std::string subject, std::string queue = "", std::string sid = "") {
  OwnedOp o = op(kind);
  o.subject = std::move(subject);
  o.queue = std::move(queue);
  o.sid = std::move(sid);
  return o;
}

TEST(Parser, EveryClientOpGroundAtEverySplit) {
  const std::string headers = "NATS/1.0\r\nA: b\r\n\r\n";
  const std::string input =
      "CONNECT {\"verbose\":false}\n"
      "SUB a.b\nSUB a.* q1\nUNSUB a.b\nUNSUB a.* q1\n"
      "PUB a.b 5\nhello\n"
      "PUB a.b reply.to 0\n\n"
      "HPUB h.s " +
      std::to_string(headers.size()) + " " + std::to_string(headers.size() + 2) + "\n" + headers +
      "hi\n"
      "HPUB h.s r " +
      std::to_string(headers.size()) + " " + std::to_string(headers.size()) + "\n" + headers +
      "\n"
      "PING\nPONG\n";
  const Outcome out = ground(input);
  ASSERT_FALSE(out.error) << out.error.message();
  ASSERT_EQ(out.ops.size(), 11u);
  OwnedOp connect = op(OpKind::connect);
  connect.args = "{\"verbose\":false}";
  EXPECT_EQ(out.ops[0], connect);
  EXPECT_EQ(out.ops[1], sub(OpKind::sub, "a.b"));
  EXPECT_EQ(out.ops[2], sub(OpKind::sub, "a.*", "q1"));
  EXPECT_EQ(out.ops[3], sub(OpKind::unsub, "a.b"));
  EXPECT_EQ(out.ops[4], sub(OpKind::unsub, "a.*", "q1"));
  EXPECT_EQ(out.ops[5], pub("a.b", "", "hello"));
  EXPECT_EQ(out.ops[6], pub("a.b", "reply.to", ""));
  OwnedOp hpub = op(OpKind::hpub);
  hpub.subject = "h.s";
  hpub.headers = headers;
  hpub.payload = "hi";
  EXPECT_EQ(out.ops[7], hpub);
  hpub.reply = "r";
  hpub.payload = "";
  EXPECT_EQ(out.ops[8], hpub);
  EXPECT_EQ(out.ops[9], op(OpKind::ping));
  EXPECT_EQ(out.ops[10], op(OpKind::pong));
}

TEST(Parser, CrlfTabsCaseAndBlankLines) {
  const Outcome out = ground("\r\n\npub\ta.b  \t 3\r\nx\ry\r\n  sUb  q.r \r\n\r\nping\r\n");
  ASSERT_FALSE(out.error);
  ASSERT_EQ(out.ops.size(), 3u);
  EXPECT_EQ(out.ops[0], pub("a.b", "", "x\ry"));
  EXPECT_EQ(out.ops[1], sub(OpKind::sub, "q.r"));
  EXPECT_EQ(out.ops[2], op(OpKind::ping));
}

TEST(Parser, PayloadsMayHoldAnyBytes) {
  std::string payload = "PUB x 1\r\n";
  for (int b = 0; b < 256; ++b) payload.push_back(static_cast<char>(b));
  const Outcome out =
      ground("PUB bin " + std::to_string(payload.size()) + "\n" + payload + "\nPING\n");
  ASSERT_FALSE(out.error);
  ASSERT_EQ(out.ops.size(), 2u);
  EXPECT_EQ(out.ops[0].payload, payload);
}

TEST(Parser, ServerOpsInClientRole) {
  ParserSetup client{{}, Role::client, Dialect::psycho};
  const Outcome out = ground(
      "INFO {\"server_id\":\"x\"}\n+OK\n-ERR 'Invalid Subject'\nMSG a.b 3\nabc\n"
      "MSG a.b inbox.1 0\n\nHMSG h 12 14\nNATS/1.0\r\n\r\nhi\nPING\nPONG\n",
      client);
  ASSERT_FALSE(out.error) << out.error.message();
  ASSERT_EQ(out.ops.size(), 8u);
  EXPECT_EQ(out.ops[0].args, "{\"server_id\":\"x\"}");
  EXPECT_EQ(out.ops[1].kind, OpKind::ok);
  EXPECT_EQ(out.ops[2].args, "Invalid Subject");
  EXPECT_EQ(out.ops[3].subject, "a.b");
  EXPECT_EQ(out.ops[3].payload, "abc");
  EXPECT_EQ(out.ops[4].reply, "inbox.1");
  EXPECT_EQ(out.ops[5].headers, "NATS/1.0\r\n\r\n");
  EXPECT_EQ(out.ops[5].payload, "hi");
}

TEST(Parser, NatsDialectCarriesSids) {
  ParserSetup nats_client{{}, Role::client, Dialect::nats};
  const Outcome out = ground(
      "MSG a.b 7 3\r\nabc\r\nMSG a.b 8 inbox 1\r\nz\r\n"
      "HMSG a 9 12 13\r\nNATS/1.0\r\n\r\nq\r\n",
      nats_client);
  ASSERT_FALSE(out.error);
  ASSERT_EQ(out.ops.size(), 3u);
  EXPECT_EQ(out.ops[0].sid, "7");
  EXPECT_EQ(out.ops[0].reply, "");
  EXPECT_EQ(out.ops[1].sid, "8");
  EXPECT_EQ(out.ops[1].reply, "inbox");
  EXPECT_EQ(out.ops[2].sid, "9");
  EXPECT_EQ(out.ops[2].payload, "q");
  ParserSetup nats_server{{}, Role::server, Dialect::nats};
  const Outcome subs = ground("SUB a 1\nSUB a q 2\n", nats_server);
  ASSERT_EQ(subs.ops.size(), 2u);
  EXPECT_EQ(subs.ops[0], sub(OpKind::sub, "a", "", "1"));
  EXPECT_EQ(subs.ops[1], sub(OpKind::sub, "a", "q", "2"));
}

TEST(Parser, HandlerCanStopParsing) {
  Parser parser(Limits{});
  testing::Recorder stop_after_one(1);
  EXPECT_FALSE(parser.feed("PING\nPING\nPING\n", stop_after_one));
  EXPECT_EQ(stop_after_one.ops.size(), 1u);
}

// ------------------------------------------------------------------ rejections, one each

struct Rejection {
  const char* name;
  std::string input;
  Error error;
  std::size_t ops_before = 0;
  Role role = Role::server;
};

class ParserRejects : public ::testing::TestWithParam<Rejection> {};

TEST_P(ParserRejects, AtEverySplitWithNothingDeliveredAfterTheError) {
  const auto& r = GetParam();
  ParserSetup setup{Limits{64, 100}, r.role, Dialect::psycho};
  const Outcome out = ground(r.input, setup);
  EXPECT_EQ(out.error, make_error_code(r.error)) << out.error.message();
  EXPECT_EQ(out.ops.size(), r.ops_before);
}

INSTANTIATE_TEST_SUITE_P(
    Protocol, ParserRejects,
    ::testing::Values(
        Rejection{"UnknownOp", "PING\nFOO bar\nPING\n", Error::unknown_operation, 1},
        Rejection{"ServerOpFromClient", "MSG a 1\nx\n", Error::unknown_operation},
        Rejection{"ClientOpFromServer", "PUB a 1\nx\n", Error::unknown_operation, 0, Role::client},
        Rejection{"ControlLineTooLong", "SUB " + std::string(61, 'a') + "\n",
                  Error::control_line_too_long},
        Rejection{"ControlLineWithoutEnd", std::string(200, 'a'), Error::control_line_too_long},
        Rejection{"PayloadTooLarge", "PUB a 101\n", Error::payload_too_large},
        Rejection{"HeaderPayloadTooLarge", "HPUB a 10 101\n", Error::payload_too_large},
        Rejection{"PayloadNotTerminated", "PUB a 3\nabcd\n", Error::bad_payload_terminator},
        Rejection{"PayloadCrWithoutLf", "PUB a 3\nabc\rX", Error::bad_payload_terminator},
        Rejection{"PubMissingSize", "PUB a\n", Error::invalid_arguments},
        Rejection{"PubTooManyArgs", "PUB a b c 1\nx\n", Error::invalid_arguments},
        Rejection{"SizeNotANumber", "PUB a 1x\n", Error::invalid_arguments},
        Rejection{"SizeNegative", "PUB a -1\n", Error::invalid_arguments},
        Rejection{"SizeOverflow", "PUB a 99999999999999999999\n", Error::invalid_arguments},
        Rejection{"HeaderLargerThanTotal", "HPUB a 5 3\n", Error::invalid_arguments},
        Rejection{"SubWithoutSubject", "SUB\n", Error::invalid_arguments},
        Rejection{"SubTooManyArgs", "SUB a q extra\n", Error::invalid_arguments},
        Rejection{"ConnectWithoutJson", "CONNECT\n", Error::invalid_arguments},
        Rejection{"MsgBadArgs", "MSG a\n", Error::invalid_arguments, 0, Role::client}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(Parser, MemoryStaysBoundedWhateverArrives) {
  const Limits limits{64, 100};
  ParserSetup setup{limits, Role::server, Dialect::psycho};
  // A long line trickling in one byte at a time is cut off at the limit.
  std::vector<std::string> trickle(1000, "a");
  const Outcome out = feed_pieces(trickle, setup);
  EXPECT_EQ(out.error, make_error_code(Error::control_line_too_long));
  EXPECT_LE(out.max_buffered, limits.max_control_line + 1);
  // A split maximum-size PUB never needs more than line + payload.
  const std::string big = "PUB a 100\n" + std::string(100, 'x') + "\n";
  const Outcome split = feed_pieces({big.substr(0, 20), big.substr(20, 50), big.substr(70)}, setup);
  EXPECT_FALSE(split.error);
  EXPECT_LE(split.max_buffered, limits.max_control_line + limits.max_payload + 2);
}

TEST(Parser, OversizedPayloadIsRejectedBeforeItIsRead) {
  Parser parser(Limits{64, 100});
  testing::Recorder r;
  EXPECT_EQ(parser.feed("PUB a 1000000\n", r), make_error_code(Error::payload_too_large));
  EXPECT_EQ(parser.buffered(), 0u);
}

}  // namespace
}  // namespace psycho::protocol

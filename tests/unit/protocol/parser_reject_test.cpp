// Every way the parser rejects input, one case each, ground at every split point: the error
// must come out however the input is cut, and no op after it may be delivered.
#include <gtest/gtest.h>

#include "grind.hpp"
#include "protocol/parser.hpp"

namespace psycho::protocol {
namespace {

using testing::feed_pieces;
using testing::ground;
using testing::Outcome;
using testing::ParserSetup;

const Limits kSmall{64, 100};

struct Rejection {
  const char* name;
  std::string input;
  Error error;
  Role role = Role::server;
  Dialect dialect = Dialect::psycho;
};

class ParserRejects : public ::testing::TestWithParam<Rejection> {};

TEST_P(ParserRejects, AtEverySplit) {
  const auto& r = GetParam();
  const Outcome out = ground(r.input, {kSmall, r.role, r.dialect});
  EXPECT_EQ(out.error, make_error_code(r.error)) << out.error.message();
  EXPECT_TRUE(out.ops.empty());
}

// Between valid ops: the one before is delivered, nothing after the error is.
TEST_P(ParserRejects, BetweenValidOps) {
  const auto& r = GetParam();
  const Outcome out = ground("PING\r\n" + r.input + "\nPING\n", {kSmall, r.role, r.dialect});
  EXPECT_EQ(out.error, make_error_code(r.error)) << out.error.message();
  EXPECT_EQ(out.ops.size(), 1u);
}

const std::string k64(64, 's');

INSTANTIATE_TEST_SUITE_P(
    Protocol, ParserRejects,
    ::testing::Values(
        // unknown_operation
        Rejection{"UnknownOp", "FOO bar\n", Error::unknown_operation},
        Rejection{"OpNameRunOn", "PINGPONG\n", Error::unknown_operation},
        Rejection{"OpNamePrefix", "PIN\n", Error::unknown_operation},
        Rejection{"LongUnknownOp", "CONNECTED {}\n", Error::unknown_operation},
        Rejection{"BinaryGarbage", std::string("\x00\xff\x01 x\n", 6), Error::unknown_operation},
        Rejection{"CrBeforeOpName", "\rPING\n", Error::unknown_operation},
        Rejection{"InfoToServer", "INFO {}\n", Error::unknown_operation},
        Rejection{"MsgToServer", "MSG a 1\nx\n", Error::unknown_operation},
        Rejection{"HmsgToServer", "HMSG a 0 0\n\n", Error::unknown_operation},
        Rejection{"OkToServer", "+OK\n", Error::unknown_operation},
        Rejection{"ErrToServer", "-ERR 'x'\n", Error::unknown_operation},
        Rejection{"ConnectToClient", "CONNECT {}\n", Error::unknown_operation, Role::client},
        Rejection{"PubToClient", "PUB a 1\nx\n", Error::unknown_operation, Role::client},
        Rejection{"HpubToClient", "HPUB a 0 0\n\n", Error::unknown_operation, Role::client},
        Rejection{"SubToClient", "SUB a\n", Error::unknown_operation, Role::client},
        Rejection{"UnsubToClient", "UNSUB a\n", Error::unknown_operation, Role::client},
        Rejection{"PubToNatsClient", "PUB a 1\r\nx\r\n", Error::unknown_operation, Role::client,
                  Dialect::nats},
        // control_line_too_long (limit 64)
        Rejection{"LineTooLong", "SUB " + k64.substr(3) + "\n", Error::control_line_too_long},
        Rejection{"LineTooLongCrlf", "SUB " + k64.substr(3) + "\r\n", Error::control_line_too_long},
        Rejection{"LineWithoutEnd", std::string(200, 'a'), Error::control_line_too_long},
        Rejection{"CrInsideLineCounts", "SUB " + k64.substr(4) + "\rX\n",
                  Error::control_line_too_long},
        Rejection{"SecondCrCounts", "SUB " + k64.substr(4) + "\r\r\n",
                  Error::control_line_too_long},
        Rejection{"PubLineTooLong", "PUB " + k64.substr(5) + " 1\nx\n",
                  Error::control_line_too_long},
        Rejection{"MsgLineTooLong", "MSG " + k64 + " 1\nx\n", Error::control_line_too_long,
                  Role::client},
        // payload_too_large (limit 100)
        Rejection{"PubTooLarge", "PUB a 101\n", Error::payload_too_large},
        Rejection{"PubTooLargeWithBody", "PUB a r 101\n" + std::string(101, 'x') + "\n",
                  Error::payload_too_large},
        Rejection{"PubHugeSize", "PUB a 9999999999\n", Error::payload_too_large},
        Rejection{"HpubTooLarge", "HPUB a 10 101\n", Error::payload_too_large},
        Rejection{"MsgTooLarge", "MSG a 101\n", Error::payload_too_large, Role::client},
        Rejection{"HmsgTooLarge", "HMSG a 0 101\n", Error::payload_too_large, Role::client},
        Rejection{"NatsMsgTooLarge", "MSG a 1 101\r\n", Error::payload_too_large, Role::client,
                  Dialect::nats},
        // bad_payload_terminator
        Rejection{"PayloadTooLong", "PUB a 3\nabcd\n", Error::bad_payload_terminator},
        Rejection{"CrWithoutLf", "PUB a 3\nabc\rX", Error::bad_payload_terminator},
        Rejection{"TwoCrs", "PUB a 3\nabc\r\r\n", Error::bad_payload_terminator},
        Rejection{"NextOpGlued", "PUB a 3\nabcPING\n", Error::bad_payload_terminator},
        Rejection{"EmptyPayloadNotEmpty", "PUB a 0\nX\n", Error::bad_payload_terminator},
        Rejection{"HpubTooLong", "HPUB a 1 2\nxyz\n", Error::bad_payload_terminator},
        Rejection{"MsgTooLong", "MSG a 1\nxy\n", Error::bad_payload_terminator, Role::client},
        // invalid_arguments
        Rejection{"PubNoArgs", "PUB\n", Error::invalid_arguments},
        Rejection{"PubNoSize", "PUB a\n", Error::invalid_arguments},
        Rejection{"PubTooManyArgs", "PUB a b c 1\nx\n", Error::invalid_arguments},
        Rejection{"PubFarTooManyArgs", "PUB a b c d e f 1\nx\n", Error::invalid_arguments},
        Rejection{"SizeNotANumber", "PUB a 1x\n", Error::invalid_arguments},
        Rejection{"SizeIsAWord", "PUB a r x\n", Error::invalid_arguments},
        Rejection{"SizeNegative", "PUB a -1\n", Error::invalid_arguments},
        Rejection{"SizeWithPlus", "PUB a +1\n", Error::invalid_arguments},
        Rejection{"SizeOverflow", "PUB a 99999999999999999999\n", Error::invalid_arguments},
        Rejection{"HpubOneSize", "HPUB a 1\n", Error::invalid_arguments},
        Rejection{"HpubBadHeaderSize", "HPUB a x 3\n", Error::invalid_arguments},
        Rejection{"HeaderLargerThanTotal", "HPUB a 5 3\n", Error::invalid_arguments},
        Rejection{"SubNoSubject", "SUB\n", Error::invalid_arguments},
        Rejection{"SubTooManyArgs", "SUB a q extra\n", Error::invalid_arguments},
        Rejection{"UnsubNoSubject", "UNSUB \t\n", Error::invalid_arguments},
        Rejection{"UnsubTooManyArgs", "UNSUB a q x\n", Error::invalid_arguments},
        Rejection{"ConnectWithoutJson", "CONNECT\n", Error::invalid_arguments},
        Rejection{"ConnectBlanksOnly", "CONNECT \t \r\n", Error::invalid_arguments},
        Rejection{"PingWithArgs", "PING x\n", Error::invalid_arguments},
        Rejection{"PongWithArgs", "PONG x\n", Error::invalid_arguments},
        Rejection{"InfoWithoutJson", "INFO\n", Error::invalid_arguments, Role::client},
        Rejection{"OkWithArgs", "+OK x\n", Error::invalid_arguments, Role::client},
        Rejection{"MsgNoSize", "MSG a\n", Error::invalid_arguments, Role::client},
        Rejection{"MsgTooManyArgs", "MSG a b c 1\n", Error::invalid_arguments, Role::client},
        Rejection{"HmsgOneSize", "HMSG a 1\n", Error::invalid_arguments, Role::client},
        Rejection{"HmsgHeaderLarger", "HMSG a 2 1\n", Error::invalid_arguments, Role::client},
        Rejection{"NatsMsgWithoutSid", "MSG a 3\r\n", Error::invalid_arguments, Role::client,
                  Dialect::nats},
        Rejection{"NatsMsgTooManyArgs", "MSG a 1 r x 3\r\n", Error::invalid_arguments, Role::client,
                  Dialect::nats},
        Rejection{"NatsSubWithoutSid", "SUB a\n", Error::invalid_arguments, Role::server,
                  Dialect::nats},
        Rejection{"NatsSubTooManyArgs", "SUB a q 1 x\n", Error::invalid_arguments, Role::server,
                  Dialect::nats}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

// Overflow is reported at the first byte that makes the line too long, so the scratch buffer
// never holds more than max_control_line bytes.
TEST(ParserLimits, ControlLineOverflowIsReportedBeforeItIsBuffered) {
  Parser parser(kSmall);
  testing::Recorder r;
  const std::string line = "SUB " + std::string(200, 'a');
  for (std::size_t n = 1; n <= line.size(); ++n) {
    const std::error_code ec = parser.feed(line.substr(n - 1, 1), r);
    if (n <= kSmall.max_control_line) {
      ASSERT_FALSE(ec) << "at byte " << n;
      ASSERT_EQ(parser.buffered(), n);
    } else {
      ASSERT_EQ(ec, make_error_code(Error::control_line_too_long)) << "at byte " << n;
      ASSERT_LE(parser.buffered(), kSmall.max_control_line);
    }
  }
  EXPECT_TRUE(r.ops.empty());
}

// A CR right after max_control_line bytes may still be the line end's: wait for the next byte.
TEST(ParserLimits, CrAtTheLimitWaitsForTheNextByte) {
  const std::string line = "SUB " + std::string(60, 'a');
  for (const char* next : {"\n", "x"}) {
    Parser parser(kSmall);
    testing::Recorder r;
    EXPECT_FALSE(parser.feed(line, r));
    EXPECT_FALSE(parser.feed("\r", r));
    EXPECT_EQ(parser.buffered(), kSmall.max_control_line);
    const std::error_code ec = parser.feed(next, r);
    if (next[0] == '\n') {
      EXPECT_FALSE(ec);
      EXPECT_EQ(r.ops.size(), 1u);
      EXPECT_EQ(parser.buffered(), 0u);
    } else {
      EXPECT_EQ(ec, make_error_code(Error::control_line_too_long));
    }
  }
}

TEST(ParserLimits, HugePieceWithoutLineEndIsNotBuffered) {
  Parser parser(kSmall);
  testing::Recorder r;
  EXPECT_EQ(parser.feed(std::string(1 << 20, 'a'), r),
            make_error_code(Error::control_line_too_long));
  EXPECT_EQ(parser.buffered(), 0u);
}

TEST(ParserLimits, OversizedPayloadIsRejectedBeforeItIsRead) {
  Parser parser(kSmall);
  testing::Recorder r;
  EXPECT_EQ(parser.feed("PUB a 1000000\n" + std::string(1000, 'x'), r),
            make_error_code(Error::payload_too_large));
  EXPECT_EQ(parser.buffered(), 0u);

  // With the control line split, only the line was held when the error came.
  Parser split(kSmall);
  EXPECT_FALSE(split.feed("PUB a 10", r));
  EXPECT_EQ(split.feed("1\nxxxx", r), make_error_code(Error::payload_too_large));
  EXPECT_LE(split.buffered(), std::string("PUB a 101").size());
  EXPECT_TRUE(r.ops.empty());
}

TEST(ParserLimits, SplitMaximumMessageNeedsOnlyLinePlusBody) {
  const std::string input = "PUB a 100\r\n" + std::string(100, 'x') + "\r\n";
  std::vector<std::string> bytes;
  for (char c : input) bytes.emplace_back(1, c);
  const Outcome out = feed_pieces(bytes, {kSmall, Role::server, Dialect::psycho});
  ASSERT_FALSE(out.error) << out.error.message();
  ASSERT_EQ(out.ops.size(), 1u);
  EXPECT_EQ(out.max_buffered, std::string("PUB a 100").size() + 100);
}

TEST(ParserLimits, ErrorIsStickyAndNothingMoreIsDelivered) {
  Parser parser(kSmall);
  testing::Recorder r;
  EXPECT_EQ(parser.feed("BOGUS\n", r), make_error_code(Error::unknown_operation));
  EXPECT_EQ(parser.feed("PING\n", r), make_error_code(Error::unknown_operation));
  EXPECT_EQ(parser.feed("", r), make_error_code(Error::unknown_operation));
  EXPECT_TRUE(r.ops.empty());
}

}  // namespace
}  // namespace psycho::protocol

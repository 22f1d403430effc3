#include "protocol/encoder.hpp"

#include <gtest/gtest.h>

#include "grind.hpp"
#include "protocol/connect_options.hpp"

namespace psycho::protocol {
namespace {

TEST(Encoder, ExactBytes) {
  std::string out;
  append_pub(out, "a.b", "", "hello");
  append_pub(out, "a.b", "r", "");
  append_hpub(out, "h", "", "NATS/1.0\r\n\r\n", "x");
  append_sub(out, "a.*", "");
  append_sub(out, "a.*", "q", "7");
  append_unsub(out, "a.*", "q");
  append_msg_head(out, "a.b", "r", 5);
  append_hmsg_head(out, "a.b", "", 12, 13);
  append_ok(out);
  append_err(out, Error::slow_consumer);
  append_ping(out);
  append_pong(out);
  append_connect(out, "{}");
  append_info(out, "{\"a\":1}");
  EXPECT_EQ(out,
            "PUB a.b 5\nhello\nPUB a.b r 0\n\nHPUB h 12 13\nNATS/1.0\r\n\r\nx\n"
            "SUB a.*\nSUB a.* q 7\nUNSUB a.* q\nMSG a.b r 5\nHMSG a.b 12 13\n+OK\n"
            "-ERR 'Slow Consumer'\nPING\nPONG\nCONNECT {}\nINFO {\"a\":1}\n");
}

TEST(Encoder, RoundTripsThroughTheParser) {
  std::string out;
  append_pub(out, "a.b", "inbox.9", std::string("\0\r\n\x01", 4));
  append_hpub(out, "h", "r", "NATS/1.0\r\nK: v\r\n\r\n", "payload");
  const auto outcome = testing::feed_whole(out);
  ASSERT_FALSE(outcome.error);
  ASSERT_EQ(outcome.ops.size(), 2u);
  EXPECT_EQ(outcome.ops[0].payload, std::string("\0\r\n\x01", 4));
  EXPECT_EQ(outcome.ops[0].reply, "inbox.9");
  EXPECT_EQ(outcome.ops[1].headers, "NATS/1.0\r\nK: v\r\n\r\n");
  EXPECT_EQ(outcome.ops[1].payload, "payload");
}

TEST(Errors, WireTextsCategoryAndClosing) {
  EXPECT_EQ(wire_text(Error::unknown_operation), "Unknown Protocol Operation");
  EXPECT_EQ(wire_text(Error::control_line_too_long), "Maximum Control Line Exceeded");
  EXPECT_EQ(wire_text(Error::payload_too_large), "Maximum Payload Violation");
  EXPECT_EQ(wire_text(Error::invalid_publish_subject), "Invalid Publish Subject");
  const std::error_code ec = Error::stale_connection;
  EXPECT_STREQ(ec.category().name(), "psycho.protocol");
  EXPECT_EQ(ec.message(), "Stale Connection");
  EXPECT_TRUE(closes_connection(Error::slow_consumer));
  EXPECT_TRUE(closes_connection(Error::bad_payload_terminator));
  EXPECT_FALSE(closes_connection(Error::invalid_subject));
  EXPECT_FALSE(closes_connection(Error::invalid_publish_subject));
}

TEST(ConnectOptions, ReadsKnownFieldsAndIgnoresOthers) {
  ConnectOptions o;
  ASSERT_FALSE(parse_connect_options(
      R"({"verbose":false,"pedantic":false,"echo":true,"headers":true,"name":"a\"b\u00e9",)"
      R"("lang":"C","version":"1.0","protocol":1,"nested":{"x":[1,2,{"y":null}]}})",
      o));
  EXPECT_FALSE(o.verbose);
  EXPECT_TRUE(o.echo);
  EXPECT_TRUE(o.headers);
  EXPECT_EQ(o.name, "a\"b\xc3\xa9");
}

TEST(ConnectOptions, RejectsMalformedJsonAndWrongTypes) {
  for (const char* bad :
       {"", "{", "{\"verbose\":1}", "{\"name\":true}", "[1]", "{} x", "{\"a\":tru}", "{\"a\" 1}",
        "{\"a\":\"\\q\"}", "{\"a\":[[[[[[[[[[[[1]]]]]]]]]]]}"}) {
    ConnectOptions o;
    EXPECT_TRUE(parse_connect_options(bad, o)) << bad;
    EXPECT_TRUE(o.verbose) << "a failed parse changes nothing: " << bad;
  }
}

}  // namespace
}  // namespace psycho::protocol

// The encoders' exact bytes, and a round trip of every op through the parser.
#include "protocol/encoder.hpp"

#include <gtest/gtest.h>

#include "grind.hpp"

namespace psycho::protocol {
namespace {

using testing::ground;
using testing::Outcome;
using testing::ParserSetup;

template <typename F>
std::string encode(F f) {
  std::string out;
  f(out);
  return out;
}

TEST(Encoder, ClientOpsExactBytes) {
  using S = std::string&;
  EXPECT_EQ(encode([](S o) { append_connect(o, "{\"verbose\":false}"); }),
            "CONNECT {\"verbose\":false}\n");
  EXPECT_EQ(encode([](S o) { append_pub(o, "a.b", "", "hello"); }), "PUB a.b 5\nhello\n");
  EXPECT_EQ(encode([](S o) { append_pub(o, "a.b", "r.1", ""); }), "PUB a.b r.1 0\n\n");
  EXPECT_EQ(encode([](S o) { append_hpub(o, "h", "", "NATS/1.0\r\n\r\n", "x"); }),
            "HPUB h 12 13\nNATS/1.0\r\n\r\nx\n");
  EXPECT_EQ(encode([](S o) { append_hpub(o, "h", "r", "NATS/1.0\r\n\r\n", ""); }),
            "HPUB h r 12 12\nNATS/1.0\r\n\r\n\n");
  EXPECT_EQ(encode([](S o) { append_sub(o, "a.*", ""); }), "SUB a.*\n");
  EXPECT_EQ(encode([](S o) { append_sub(o, "a.>", "q"); }), "SUB a.> q\n");
  EXPECT_EQ(encode([](S o) { append_sub(o, "a.*", "", "7"); }), "SUB a.* 7\n");
  EXPECT_EQ(encode([](S o) { append_sub(o, "a.*", "q", "7"); }), "SUB a.* q 7\n");
  EXPECT_EQ(encode([](S o) { append_unsub(o, "a.*"); }), "UNSUB a.*\n");
  EXPECT_EQ(encode([](S o) { append_unsub(o, "a.*", "q"); }), "UNSUB a.* q\n");
  EXPECT_EQ(encode([](S o) { append_unsub(o, "7"); }), "UNSUB 7\n");
}

TEST(Encoder, ServerOpsExactBytes) {
  using S = std::string&;
  EXPECT_EQ(encode([](S o) { append_info(o, "{\"a\":1}"); }), "INFO {\"a\":1}\n");
  EXPECT_EQ(encode([](S o) { append_msg_head(o, "a.b", "", 5); }), "MSG a.b 5\n");
  EXPECT_EQ(encode([](S o) { append_msg_head(o, "a.b", "r", 1048576); }), "MSG a.b r 1048576\n");
  EXPECT_EQ(encode([](S o) { append_hmsg_head(o, "a.b", "", 12, 13); }), "HMSG a.b 12 13\n");
  EXPECT_EQ(encode([](S o) { append_hmsg_head(o, "a.b", "r", 0, 0); }), "HMSG a.b r 0 0\n");
  EXPECT_EQ(encode([](S o) { append_ok(o); }), "+OK\n");
  EXPECT_EQ(encode([](S o) { append_err(o, Error::slow_consumer); }), "-ERR 'Slow Consumer'\n");
  EXPECT_EQ(encode([](S o) { append_err(o, Error::control_line_too_long); }),
            "-ERR 'Maximum Control Line Exceeded'\n");
  EXPECT_EQ(encode([](S o) { append_err(o, "free text"); }), "-ERR 'free text'\n");
  EXPECT_EQ(encode([](S o) { append_ping(o); }), "PING\n");
  EXPECT_EQ(encode([](S o) { append_pong(o); }), "PONG\n");
  EXPECT_EQ(encode([](S o) { append_line_end(o); }), "\n");
  EXPECT_EQ(line_end, "\n");
}

TEST(Encoder, AppendsWithoutTouchingWhatIsThere) {
  std::string out = "keep";
  append_ping(out);
  append_msg_head(out, "s", "", 0);
  append_line_end(out);
  EXPECT_EQ(out, "keepPING\nMSG s 0\n\n");
}

TEST(Encoder, ClientOpsRoundTripThroughTheServerParser) {
  const std::string binary("\0\r\nPUB x 1\n\xff", 12);
  const std::string headers = "NATS/1.0\r\nK: v\r\n\r\n";
  std::string out;
  append_connect(out, R"({"verbose": false, "name": "x y"})");
  append_pub(out, "a.b", "inbox.9", binary);
  append_hpub(out, "h", "", headers, "payload");
  append_sub(out, "a.*", "q");
  append_unsub(out, "a.*", "q");
  append_ping(out);
  append_pong(out);
  const Outcome o = ground(out, {});
  ASSERT_FALSE(o.error) << o.error.message();
  ASSERT_EQ(o.ops.size(), 7u);
  EXPECT_EQ(o.ops[0].args, R"({"verbose": false, "name": "x y"})");
  EXPECT_EQ(o.ops[1].subject, "a.b");
  EXPECT_EQ(o.ops[1].reply, "inbox.9");
  EXPECT_EQ(o.ops[1].payload, binary);
  EXPECT_EQ(o.ops[2].headers, headers);
  EXPECT_EQ(o.ops[2].payload, "payload");
  EXPECT_EQ(o.ops[3].queue, "q");
  EXPECT_EQ(o.ops[4].kind, OpKind::unsub);
  EXPECT_EQ(o.ops[5].kind, OpKind::ping);
  EXPECT_EQ(o.ops[6].kind, OpKind::pong);
}

TEST(Encoder, ServerOpsRoundTripThroughTheClientParser) {
  const std::string headers = "NATS/1.0\r\n\r\n";
  std::string out;
  append_info(out, R"({"server_id":"x", "max_payload":1048576})");
  append_ok(out);
  append_err(out, Error::invalid_publish_subject);
  append_msg_head(out, "a.b", "r", 3);
  out.append("a\nb");
  append_line_end(out);
  append_hmsg_head(out, "h", "", headers.size(), headers.size() + 2);
  out.append(headers).append("hi");
  append_line_end(out);
  append_ping(out);
  const Outcome o = ground(out, {Limits{}, Role::client, Dialect::psycho});
  ASSERT_FALSE(o.error) << o.error.message();
  ASSERT_EQ(o.ops.size(), 6u);
  EXPECT_EQ(o.ops[0].args, R"({"server_id":"x", "max_payload":1048576})");
  EXPECT_EQ(o.ops[1].kind, OpKind::ok);
  EXPECT_EQ(o.ops[2].args, wire_text(Error::invalid_publish_subject));
  EXPECT_EQ(o.ops[3].reply, "r");
  EXPECT_EQ(o.ops[3].payload, "a\nb");
  EXPECT_EQ(o.ops[4].headers, headers);
  EXPECT_EQ(o.ops[4].payload, "hi");
  EXPECT_EQ(o.ops[5].kind, OpKind::ping);
}

TEST(Encoder, NatsSubRoundTripsWithItsSid) {
  std::string out;
  append_sub(out, "a", "q", "42");
  append_sub(out, "b", "", "43");
  const Outcome o = ground(out, {Limits{}, Role::server, Dialect::nats});
  ASSERT_FALSE(o.error) << o.error.message();
  ASSERT_EQ(o.ops.size(), 2u);
  EXPECT_EQ(o.ops[0].queue, "q");
  EXPECT_EQ(o.ops[0].sid, "42");
  EXPECT_EQ(o.ops[1].queue, "");
  EXPECT_EQ(o.ops[1].sid, "43");
}

}  // namespace
}  // namespace psycho::protocol

#include "core/message.hpp"

#include <gtest/gtest.h>

namespace psycho {
namespace {

TEST(Message, HoldsAllPartsInOneBlockAndSharesThem) {
  MessagePtr m =
      make_message({"a.b", "_INBOX.1", "NATS/1.0\r\nK: v\r\n\r\n", "hello"}, 42, Trace{7, 9, 2});
  EXPECT_EQ(m->subject(), "a.b");
  EXPECT_EQ(m->reply(), "_INBOX.1");
  EXPECT_EQ(m->headers(), "NATS/1.0\r\nK: v\r\n\r\n");
  EXPECT_EQ(m->payload(), "hello");
  EXPECT_EQ(m->body(), "NATS/1.0\r\nK: v\r\n\r\nhello");
  EXPECT_EQ(m->origin(), 42u);
  EXPECT_EQ(m->trace().hops, 2);
  MessagePtr copy = m;
  MessagePtr moved = std::move(copy);
  EXPECT_EQ(moved.get(), m.get());
  EXPECT_FALSE(copy);
}

TEST(Message, EmptyPartsAreFine) {
  MessagePtr m = make_message({"s", "", "", ""}, 0, Trace{});
  EXPECT_EQ(m->subject(), "s");
  EXPECT_TRUE(m->payload().empty());
  EXPECT_TRUE(m->body().empty());
}

TEST(Message, HeaderBlocksMustBeWhole) {
  EXPECT_TRUE(is_valid_header_block(""));
  EXPECT_TRUE(is_valid_header_block("NATS/1.0\r\n\r\n"));
  EXPECT_TRUE(is_valid_header_block("NATS/1.0 503\r\nA: b\r\n\r\n"));
  EXPECT_FALSE(is_valid_header_block("NATS/1.0\r\nA: b\r\n"));  // no blank line
  EXPECT_FALSE(is_valid_header_block("HTTP/1.1\r\n\r\n"));
  EXPECT_FALSE(is_valid_header_block("A: b\r\n\r\n"));
  // A blank line before the end would hide what follows it from every header reader.
  EXPECT_FALSE(is_valid_header_block("NATS/1.0\r\nA: 1\r\n\r\nPsycho-X: y\r\n\r\n"));
  EXPECT_FALSE(is_valid_header_block("NATS/1.0\r\n\r"));
}

}  // namespace
}  // namespace psycho
